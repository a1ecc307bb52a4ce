/**
 * The history table's chosen columns (config fields and metric summaries, as MLflow and W&B
 * offer), their filters and the column sort. The host computes all three in SQL (listRuns'
 * `columns`, `columnFilters`, `sortColumn`); this store only holds the choice. The chosen
 * columns are the user's setting: kept in this browser profile's localStorage (per user on
 * the desktop app and per browser on `cairn serve`), not in the shared run database.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { HistoryColumnCatalogue, RunQuery } from '../../src-shared/api';
import { parseColumn, parseFilterText, type ColumnFilter } from '../../src-shared/history-columns';
import { useApi } from '../api/use-api';

export const COLUMNS_SETTING = 'cairn-history-columns';
/** The host's limit per query. */
export const MAX_CHOSEN = 24;

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled: the choice lasts for this page
  }
}

/** The saved choice, keeping only ids that still parse. */
export function loadChosen(): string[] {
  try {
    const raw = storage()?.getItem(COLUMNS_SETTING);
    const v: unknown = raw ? JSON.parse(raw) : [];
    if (!Array.isArray(v)) return [];
    return v.filter((id): id is string => typeof parseColumn(id) !== 'string').slice(0, MAX_CHOSEN);
  } catch {
    return [];
  }
}

function saveChosen(ids: string[]): void {
  try {
    storage()?.setItem(COLUMNS_SETTING, JSON.stringify(ids));
  } catch {
    // Full or disabled storage: the choice still applies to this page.
  }
}

export const useHistoryColumnsStore = defineStore('history-columns', () => {
  const chosen = ref<string[]>(loadChosen());
  /** Filter text per column id, as typed (`>0.5`, `pg`, ...). */
  const filterText = ref<Record<string, string>>({});
  /** The column the table is sorted by (overrides the built-in sort), or null. */
  const sortColumn = ref<string | null>(null);
  const catalogue = shallowRef<HistoryColumnCatalogue | null>(null);
  const catalogueError = ref<string | null>(null);

  const filters = computed<ColumnFilter[]>(() =>
    chosen.value.flatMap((id) => {
      const f = parseFilterText(id, filterText.value[id] ?? '');
      return f ? [f] : [];
    }),
  );

  /** The listRuns part this store contributes. */
  const query = computed<Pick<RunQuery, 'columns' | 'sortColumn' | 'columnFilters'>>(() => {
    const q: Pick<RunQuery, 'columns' | 'sortColumn' | 'columnFilters'> = {};
    if (chosen.value.length) q.columns = [...chosen.value];
    if (sortColumn.value && chosen.value.includes(sortColumn.value)) q.sortColumn = sortColumn.value;
    if (filters.value.length) q.columnFilters = filters.value;
    return q;
  });

  function set(ids: string[]): void {
    chosen.value = ids.slice(0, MAX_CHOSEN);
    const keep: Record<string, string> = {};
    for (const id of chosen.value) if (filterText.value[id]) keep[id] = filterText.value[id];
    filterText.value = keep;
    if (sortColumn.value && !chosen.value.includes(sortColumn.value)) sortColumn.value = null;
    saveChosen(chosen.value);
  }

  /** Add or remove one column; false when the limit refuses an addition. */
  function toggle(id: string, on?: boolean): boolean {
    const has = chosen.value.includes(id);
    const want = on ?? !has;
    if (want === has) return true;
    if (want && chosen.value.length >= MAX_CHOSEN) return false;
    set(want ? [...chosen.value, id] : chosen.value.filter((x) => x !== id));
    return true;
  }

  /** Move a column one place left (-1) or right (+1). */
  function move(id: string, by: -1 | 1): void {
    const i = chosen.value.indexOf(id);
    const j = i + by;
    if (i < 0 || j < 0 || j >= chosen.value.length) return;
    const next = [...chosen.value];
    [next[i], next[j]] = [next[j], next[i]];
    set(next);
  }

  function setFilter(id: string, text: string): void {
    filterText.value = { ...filterText.value, [id]: text };
  }

  async function loadCatalogue(): Promise<void> {
    try {
      catalogue.value = await useApi().historyColumns();
      catalogueError.value = null;
    } catch (err) {
      catalogueError.value = (err as Error).message;
    }
  }

  return { chosen, filterText, sortColumn, catalogue, catalogueError, filters, query, set, toggle, move, setFilter, loadCatalogue };
});
