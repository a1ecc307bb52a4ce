/**
 * Run history: a server-paged list (listRuns limit/offset) read page by page as the virtual
 * table scrolls, so 10,000 runs cost only the pages on screen; filters and sort go to the host.
 * Live events patch the loaded rows in place (status, progress, latest metrics) without a
 * refetch; `runs-changed` refetches the loaded pages.
 *
 * Grouped mode lists experiments (runs launched together) and loads an experiment's runs when
 * it is expanded.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { ExperimentInfo, RunInfo, RunQuery, RunStatus, WorkbenchEvent } from '../../src-shared/api';
import { useApi } from '../api/use-api';
import { debounce } from '../lib/throttle';
import { useHistoryColumnsStore } from './history-columns';

export const PAGE_SIZE = 100;
/** While a running run has no backend recorded yet, progress re-reads it at most this often. */
export const BACKEND_RETRY_MS = 2000;

export interface RunFilters {
  search: string;
  envId: string;
  algoId: string;
  status: RunStatus[];
  tag: string;
  /** `YYYY-MM-DD` (local), inclusive. */
  since: string;
  until: string;
  experimentId: number | null;
}

export type SortKey = NonNullable<RunQuery['orderBy']>;

export type GroupItem = { kind: 'exp'; exp: ExperimentInfo } | { kind: 'run'; run: RunInfo; expId: number };

const TERMINAL: readonly RunStatus[] = ['done', 'failed', 'stopped'];

function dayStart(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const [y, m, d] = s.split('-').map(Number);
  return new Date(y, m - 1, d).getTime();
}

export function emptyFilters(): RunFilters {
  return { search: '', envId: '', algoId: '', status: [], tag: '', since: '', until: '', experimentId: null };
}

/** The host query for a set of filters and a sort. */
export function buildQuery(f: RunFilters, orderBy: SortKey, desc: boolean): RunQuery {
  const q: RunQuery = { orderBy, desc };
  if (f.search.trim()) q.search = f.search.trim();
  if (f.envId) q.envId = f.envId;
  if (f.algoId) q.algoId = f.algoId;
  if (f.status.length) q.status = [...f.status];
  if (f.tag.trim()) q.tag = f.tag.trim();
  const since = dayStart(f.since);
  if (since !== undefined) q.since = since;
  const until = dayStart(f.until);
  if (until !== undefined) q.until = until + 86_400_000 - 1;
  if (f.experimentId !== null) q.experimentId = f.experimentId;
  return q;
}

/** A row updated by a live event (pure: returns a new object). */
export function applyToRun(r: RunInfo, e: WorkbenchEvent): RunInfo {
  switch (e.type) {
    case 'status': {
      const now = Date.now();
      return {
        ...r,
        status: e.status,
        error: e.error !== undefined ? e.error : e.status === 'queued' || e.status === 'running' ? null : r.error,
        startedAt: e.status === 'running' && !r.startedAt ? now : r.startedAt,
        endedAt: TERMINAL.includes(e.status) ? (r.endedAt ?? now) : null,
      };
    }
    case 'progress':
      return {
        ...r,
        status: r.status === 'queued' ? 'running' : r.status,
        episodesDone: e.round,
        episodesTotal: e.total,
        envSteps: e.envSteps,
        summary: { ...(r.summary ?? {}), ...e.latest },
      };
    default:
      return r;
  }
}

export const useRunsStore = defineStore('runs', () => {
  const filters = reactive<RunFilters>(emptyFilters());
  const orderBy = ref<SortKey>('id');
  const desc = ref(true);
  const total = ref(0);
  /** Loaded pages by page number; replaced (never mutated) so views re-render. */
  const pages = shallowRef(new Map<number, RunInfo[]>());
  const loading = ref(false);
  const error = ref<string | null>(null);
  const selected = ref(new Set<number>());
  /** Tags seen on loaded rows (for the tag filter's suggestions). */
  const knownTags = ref<string[]>([]);

  const grouped = ref(false);
  const experiments = shallowRef<ExperimentInfo[]>([]);
  const expanded = ref(new Set<number>());
  const expRuns = shallowRef(new Map<number, RunInfo[]>());

  const inFlight = new Set<number>();
  /** When each run's missing backend was last re-read. */
  const backendAsked = new Map<number, number>();
  let generation = 0;
  let replaceOnLoad = false;
  let unsubscribe: (() => void) | null = null;

  const columns = useHistoryColumnsStore();
  // Chosen columns, their filters and a column sort go to the host with the other filters.
  const query = computed<RunQuery>(() => ({ ...buildQuery(filters, orderBy.value, desc.value), ...columns.query }));

  function noteTags(rows: RunInfo[]): void {
    const s = new Set(knownTags.value);
    let grew = false;
    for (const r of rows) for (const t of r.tags) if (!s.has(t)) (s.add(t), (grew = true));
    if (grew) knownTags.value = [...s].sort();
  }

  async function loadPage(p: number, gen = generation): Promise<void> {
    if (inFlight.has(p)) return;
    inFlight.add(p);
    try {
      const res = await useApi().listRuns({ ...query.value, limit: PAGE_SIZE, offset: p * PAGE_SIZE });
      if (gen !== generation) return;
      const next = replaceOnLoad ? new Map<number, RunInfo[]>() : new Map(pages.value);
      replaceOnLoad = false;
      next.set(p, res.rows);
      pages.value = next;
      total.value = res.total;
      error.value = null;
      noteTags(res.rows);
    } catch (err) {
      if (gen === generation) error.value = (err as Error).message;
    } finally {
      inFlight.delete(p);
    }
  }

  /** Refetch from scratch (filters or sort changed), or keep rows and refresh loaded pages. */
  async function refresh(keepRows = false): Promise<void> {
    generation++;
    inFlight.clear();
    const gen = generation;
    const loaded = keepRows ? [...pages.value.keys()] : [];
    // New filters: the rows on screen stay until the first page of the answer replaces them
    // all at once, so typing a search never flashes a table of empty placeholder rows.
    replaceOnLoad = !keepRows;
    loading.value = true;
    try {
      await Promise.all([loadPage(0, gen), ...loaded.filter((p) => p !== 0).map((p) => loadPage(p, gen))]);
      if (grouped.value) await loadExperiments();
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  const refreshSoon = debounce(() => void refresh(true), 300);

  /** Make sure rows [first, last] are loaded (the virtual table calls this on scroll). */
  function ensureRange(first: number, last: number): void {
    const p0 = Math.max(0, Math.floor(first / PAGE_SIZE));
    const p1 = Math.floor(Math.max(first, last) / PAGE_SIZE);
    for (let p = p0; p <= p1; p++) {
      if (p * PAGE_SIZE >= Math.max(total.value, 1)) break;
      if (!pages.value.has(p)) void loadPage(p);
    }
  }

  function rowAt(i: number): RunInfo | undefined {
    return pages.value.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE];
  }

  function findRun(id: number): RunInfo | undefined {
    for (const rows of pages.value.values()) {
      const r = rows.find((x) => x.id === id);
      if (r) return r;
    }
    for (const rows of expRuns.value.values()) {
      const r = rows.find((x) => x.id === id);
      if (r) return r;
    }
    return undefined;
  }

  /** Replace one run wherever it is loaded; false if it is not. */
  function patchRun(id: number, fn: (r: RunInfo) => RunInfo): boolean {
    let hit = false;
    let nextPages: Map<number, RunInfo[]> | null = null;
    for (const [p, rows] of pages.value) {
      const i = rows.findIndex((x) => x.id === id);
      if (i < 0) continue;
      const copy = rows.slice();
      copy[i] = fn(rows[i]);
      nextPages ??= new Map(pages.value);
      nextPages.set(p, copy);
      hit = true;
    }
    if (nextPages) pages.value = nextPages;
    let nextExp: Map<number, RunInfo[]> | null = null;
    for (const [e, rows] of expRuns.value) {
      const i = rows.findIndex((x) => x.id === id);
      if (i < 0) continue;
      const copy = rows.slice();
      copy[i] = fn(rows[i]);
      nextExp ??= new Map(expRuns.value);
      nextExp.set(e, copy);
      hit = true;
    }
    if (nextExp) expRuns.value = nextExp;
    return hit;
  }

  async function reloadRun(id: number): Promise<void> {
    try {
      const r = await useApi().getRun(id);
      // getRun carries no chosen-column values (listRuns computes them): keep the row's own,
      // or the row would show "–" in every chosen column until the next page load.
      if (r) patchRun(id, (old) => ({ ...r, columns: old.columns }));
    } catch {
      // Keep the patched row; the next refresh corrects it.
    }
  }

  function applyEvent(e: WorkbenchEvent): void {
    switch (e.type) {
      case 'status': {
        const hit = patchRun(e.runId, (r) => applyToRun(r, e));
        if (!hit) refreshSoon();
        // The host fills in the backend at start and the summary at the end.
        else if (e.status === 'running' || TERMINAL.includes(e.status)) void reloadRun(e.runId);
        // A run that ends has final metric summaries: the chosen columns are re-read with them.
        if (hit && TERMINAL.includes(e.status) && columns.query.columns?.length) refreshSoon();
        break;
      }
      case 'progress': {
        // The backend is recorded once the worker has loaded it, after "running": the first
        // progress of a row still without one fetches it (else it shows "–" all run long).
        const before = findRun(e.runId);
        patchRun(e.runId, (r) => applyToRun(r, e));
        const now = Date.now();
        if (before && before.backend === null && now - (backendAsked.get(e.runId) ?? 0) > BACKEND_RETRY_MS) {
          backendAsked.set(e.runId, now);
          void reloadRun(e.runId);
        }
        break;
      }
      case 'runs-changed':
        refreshSoon();
        break;
      default:
        break;
    }
  }

  /** Start listening to live events (idempotent). */
  function listen(): void {
    if (!unsubscribe) unsubscribe = useApi().subscribe(applyEvent);
  }
  function stopListening(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  function setSort(key: SortKey): void {
    if (columns.sortColumn !== null) {
      columns.sortColumn = null;
      orderBy.value = key;
      desc.value = key === 'name' ? false : true;
    } else if (orderBy.value === key) desc.value = !desc.value;
    else {
      orderBy.value = key;
      desc.value = key === 'name' ? false : true;
    }
    void refresh();
  }

  /** Sort by a chosen column (host-side); again reverses it. Numbers sort high first. */
  function setColumnSort(id: string): void {
    if (columns.sortColumn === id) desc.value = !desc.value;
    else {
      columns.sortColumn = id;
      desc.value = true;
    }
    void refresh();
  }

  function resetFilters(): void {
    Object.assign(filters, emptyFilters());
    columns.filterText = {};
    void refresh();
  }

  function toggleSelect(id: number, on?: boolean): void {
    const s = new Set(selected.value);
    if (on ?? !s.has(id)) s.add(id);
    else s.delete(id);
    selected.value = s;
  }
  function clearSelection(): void {
    selected.value = new Set();
  }

  async function setTags(id: number, tags: string[]): Promise<void> {
    await useApi().setTags(id, tags);
    patchRun(id, (r) => ({ ...r, tags }));
    noteTags([{ tags } as RunInfo]);
  }
  async function setNotes(id: number, notes: string): Promise<void> {
    await useApi().setNotes(id, notes);
    patchRun(id, (r) => ({ ...r, notes }));
  }

  /** Delete runs one by one; returns the ids that failed with their messages. */
  async function deleteRuns(ids: number[]): Promise<{ id: number; message: string }[]> {
    const failed: { id: number; message: string }[] = [];
    for (const id of ids) {
      try {
        await useApi().deleteRun(id);
      } catch (err) {
        failed.push({ id, message: (err as Error).message });
      }
    }
    const s = new Set(selected.value);
    for (const id of ids) if (!failed.some((f) => f.id === id)) s.delete(id);
    selected.value = s;
    await refresh(true);
    return failed;
  }

  // --- grouped by experiment -------------------------------------------------------------

  async function loadExperiments(): Promise<void> {
    const list = await useApi().listExperiments();
    experiments.value = [...list].sort((a, b) => b.id - a.id);
    const reload = [...expanded.value];
    await Promise.all(reload.map((id) => loadExperimentRuns(id)));
  }

  async function loadExperimentRuns(expId: number): Promise<void> {
    const res = await useApi().listRuns({ ...query.value, experimentId: expId, limit: 1000, offset: 0 });
    const next = new Map(expRuns.value);
    next.set(expId, res.rows);
    expRuns.value = next;
    noteTags(res.rows);
  }

  async function setGrouped(on: boolean): Promise<void> {
    grouped.value = on;
    if (on) {
      await loadExperiments();
      if (expanded.value.size === 0) {
        for (const e of experiments.value.slice(0, 3)) await toggleExpanded(e.id, true);
      }
    }
  }

  async function toggleExpanded(expId: number, on?: boolean): Promise<void> {
    const s = new Set(expanded.value);
    const open = on ?? !s.has(expId);
    if (open) s.add(expId);
    else s.delete(expId);
    expanded.value = s;
    if (open) await loadExperimentRuns(expId);
  }

  const groupItems = computed<GroupItem[]>(() => {
    const needle = filters.search.trim().toLowerCase();
    const out: GroupItem[] = [];
    for (const exp of experiments.value) {
      if (filters.experimentId !== null && exp.id !== filters.experimentId) continue;
      const runs = expRuns.value.get(exp.id);
      const nameHit = !needle || exp.name.toLowerCase().includes(needle) || String(exp.id) === needle;
      if (!nameHit && !(runs && runs.length > 0)) continue;
      out.push({ kind: 'exp', exp });
      if (expanded.value.has(exp.id) && runs) for (const run of runs) out.push({ kind: 'run', run, expId: exp.id });
    }
    return out;
  });

  return {
    filters,
    orderBy,
    desc,
    total,
    pages,
    loading,
    error,
    selected,
    knownTags,
    grouped,
    experiments,
    expanded,
    expRuns,
    groupItems,
    query,
    refresh,
    ensureRange,
    rowAt,
    findRun,
    patchRun,
    applyEvent,
    listen,
    stopListening,
    setSort,
    setColumnSort,
    resetFilters,
    toggleSelect,
    clearSelection,
    setTags,
    setNotes,
    deleteRuns,
    setGrouped,
    toggleExpanded,
    loadExperimentRuns,
  };
});
