/** Transient messages (errors, confirmations) shown in a corner of the window. */
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  kind: 'error' | 'info' | 'success';
  text: string;
}

export const useNoticesStore = defineStore('notices', () => {
  const items = ref<Notice[]>([]);
  let next = 1;

  function push(kind: Notice['kind'], text: string, ms = kind === 'error' ? 8000 : 3500): void {
    const id = next++;
    items.value = [...items.value, { id, kind, text }];
    setTimeout(() => dismiss(id), ms);
  }
  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id);
  }
  /** Report a failed action: `what` says what the user tried. */
  function error(what: string, err: unknown): void {
    push('error', `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { items, push, dismiss, error, info: (t: string) => push('info', t), success: (t: string) => push('success', t) };
});
