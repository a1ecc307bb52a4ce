/**
 * Navigation: the current view and its parameters, kept in the URL hash (`#/run/12?tab=replay`)
 * so reload, back and forward work and the `?token=` query of the page stays untouched.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

export type ViewName = 'history' | 'new' | 'run' | 'compare' | 'experiment';

export interface Route {
  view: ViewName;
  /** Run id for `run`, experiment id for `experiment`. */
  id?: number;
  params: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [path, query = ''] = h.split('?');
  const parts = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  const view = parts[0] as ViewName;
  if ((view === 'run' || view === 'experiment') && parts[1] && /^\d+$/.test(parts[1])) return { view, id: Number(parts[1]), params };
  if (view === 'new' || view === 'compare' || view === 'history') return { view, params };
  return { view: 'history', params };
}

export function formatHash(r: Route): string {
  const q = new URLSearchParams(Object.entries(r.params).filter(([, v]) => v !== '' && v !== undefined)).toString();
  const path = r.view === 'run' || r.view === 'experiment' ? `/${r.view}/${r.id}` : `/${r.view}`;
  return `#${path}${q ? `?${q}` : ''}`;
}

export const useNavStore = defineStore('nav', () => {
  const route = ref<Route>(typeof location !== 'undefined' ? parseHash(location.hash) : { view: 'history', params: {} });

  function go(view: ViewName, opts: { id?: number; params?: Record<string, string>; replace?: boolean } = {}): void {
    const next: Route = { view, id: opts.id, params: opts.params ?? {} };
    route.value = next;
    const hash = formatHash(next);
    if (typeof location !== 'undefined' && location.hash !== hash) {
      if (opts.replace) history.replaceState(history.state, '', hash);
      else history.pushState(history.state, '', hash);
    }
  }

  /** Update one query parameter of the current view without a new history entry. */
  function setParam(key: string, value: string | undefined): void {
    const params = { ...route.value.params };
    if (value === undefined || value === '') delete params[key];
    else params[key] = value;
    go(route.value.view, { id: route.value.id, params, replace: true });
  }

  function syncFromLocation(): void {
    route.value = parseHash(location.hash);
  }

  const view = computed(() => route.value.view);
  return { route, view, go, setParam, syncFromLocation };
});
