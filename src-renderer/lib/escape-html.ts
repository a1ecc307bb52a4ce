/**
 * Text to put inside HTML that a library renders with innerHTML (ECharts tooltips): run,
 * experiment and variant names come from users and from shared database files.
 */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
