/**
 * Main-thread responsiveness of the workbench in a real browser while runs stream (for
 * `npm run bench -- --ui`): the freshly built UI served by the HTTP host on a temporary
 * database, Chromium driven by playwright-core, two runs training. The same interactions
 * (switching tabs and axes, the metric picker, the smoothing slider, history and back) are
 * played twice: while both runs stream (measured) and after they stop (the baseline, same
 * page and data, in the same session). Chromium's Event Timing gives each interaction's
 * duration (input to next paint) and the Long Tasks API the main-thread stalls.
 *
 * Needs Debian's chromium (CAIRN_CHROMIUM or /usr/bin/chromium); without it the measurement is
 * skipped with a message, never faked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../db/store';
import { Runner } from '../runner/runner';
import { startHttpHost } from '../hosts/http';
import { createWorkbench } from './workbench';
import type { BackendChoice } from '../backend/select';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BrowserUiBench {
  /** Event Timing durations (ms) of the interactions while two runs stream: p95 and max. */
  interaction_p95_ms: number;
  interaction_max_ms: number;
  /** Long tasks (> 50 ms) on the page's main thread while streaming. */
  longtask_max_ms: number;
  longtask_count: number;
  /** The same interactions with no run streaming (the baseline of this session). */
  idle_interaction_p95_ms: number;
  idle_interaction_max_ms: number;
  idle_longtask_max_ms: number;
  interactions: number;
  /**
   * The machine's 1-minute load average when the streaming pass started and ended: these
   * figures move with it (on a shared 2-core machine, several-fold), so compare two builds
   * only within one session, interleaved.
   */
  load_start: number;
  load_end: number;
  /**
   * Per interaction label (e.g. `tab:learner`, `x:step`) while streaming: the worst Event
   * Timing duration and the longest long task that started in its window (until the next
   * labelled interaction), so a figure over 100 ms names what caused it.
   */
  by_interaction: Record<string, InteractionRow>;
}

export interface InteractionRow {
  count: number;
  event_max_ms: number;
  longtask_max_ms: number;
  /**
   * The worst event split by Event Timing's own marks: waiting for the main thread (input
   * delay), its handlers (processing), and from the handlers' end to the next paint
   * (presentation: style, layout, paint and any task run before that frame). The split says
   * whether a slow interaction is its own rendering or other work in the way.
   */
  worst_input_delay_ms: number;
  worst_processing_ms: number;
  worst_presentation_ms: number;
}

/** Collects Event Timing and Long Task entries from page start (injected before any script). */
const OBSERVE = `
  window.__perf = { events: [], longtasks: [], marks: [] };
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__perf.longtasks.push({ start: e.startTime, duration: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.interactionId) window.__perf.events.push({ name: e.name, start: e.startTime, duration: e.duration, ps: e.processingStart, pe: e.processingEnd }); })
      .observe({ type: 'event', buffered: true, durationThreshold: 16 });
  } catch (err) { window.__perf.error = String(err); }
`;

/** What the DevTools performance panel records: tasks, style, layout, paint, script, GC, marks. */
const TRACE_CATEGORIES = [
  'toplevel',
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'blink.user_timing',
  'v8.execute',
  'disabled-by-default-v8.gc',
  'blink',
];

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/**
 * Event Timing's split of one event: input delay (start to processingStart), processing (the
 * handlers) and presentation (handlers' end to the paint that ends `duration`, which Chromium
 * rounds to 8 ms, so presentation is clamped at 0).
 */
export function eventPhases(e: { start: number; duration: number; ps?: number; pe?: number }): {
  worst_input_delay_ms: number;
  worst_processing_ms: number;
  worst_presentation_ms: number;
} {
  const r1 = (v: number) => Math.round(v * 10) / 10;
  if (e.ps === undefined || e.pe === undefined) return { worst_input_delay_ms: 0, worst_processing_ms: 0, worst_presentation_ms: 0 };
  return {
    worst_input_delay_ms: r1(Math.max(0, e.ps - e.start)),
    worst_processing_ms: r1(Math.max(0, e.pe - e.ps)),
    worst_presentation_ms: r1(Math.max(0, e.start + e.duration - e.pe)),
  };
}

export function chromiumPath(): string | null {
  const p = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
  return fs.existsSync(p) ? p : null;
}

export async function benchUiBrowser(
  opts: {
    backend?: BackendChoice;
    rounds?: number;
    log?: (s: string) => void;
    /** Write a V8 CPU profile of the streaming pass here (the bundle is then built unminified, so names are readable). */
    profileFile?: string;
    /**
     * Write a Chromium trace (DevTools performance format) of the streaming pass here: style
     * recalculation, layout, paint and script per task, with each interaction's label as a
     * user-timing mark, which a CPU profile alone does not show (`summariseTrace` reads it).
     */
    traceFile?: string;
    /** Serve this already built renderer instead of building the worktree's (A/B runs of two builds, interleaved). */
    rendererDir?: string;
  } = {},
): Promise<BrowserUiBench | { skipped: string }> {
  const log = opts.log ?? (() => undefined);
  const exe = chromiumPath();
  if (!exe) return { skipped: 'no Chromium (apt-get install chromium, or set CAIRN_CHROMIUM)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-browser-'));
  const rendererDir = opts.rendererDir ?? path.join(dir, 'renderer');
  if (!opts.rendererDir) {
    log('ui browser: building the renderer');
    const { build } = await import('vite');
    const vue = (await import('@vitejs/plugin-vue')).default;
    await build({
      root: path.join(ROOT, 'src-renderer'),
      base: './',
      plugins: [vue()],
      logLevel: 'error',
      configFile: false,
      build: { outDir: rendererDir, emptyOutDir: true, chunkSizeWarningLimit: 4000, minify: !(opts.profileFile || opts.traceFile) },
    });
  }
  const store = await Store.open(path.join(dir, 'bench.db'));
  const runner = new Runner({ store, maxParallel: 2, backend: opts.backend ?? 'auto' });
  const workbench = createWorkbench({ store, runner, host: 'http', backend: opts.backend ?? 'auto', version: 'bench' });
  const host = await startHttpHost({ workbench, rendererDir });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const { runIds } = await workbench.launch({
      preset: 'manitokan-pg-history',
      overrides: { train: { episodes: opts.rounds ?? 100_000, numEnvs: 8, replayEvery: 1 } },
      seeds: [1, 2],
      name: 'bench ui',
    });
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.addInitScript(OBSERVE);
    const base = host.url.replace(/#.*$/, '');
    const until = async (what: string, fn: () => Promise<boolean>, ms = 120_000) => {
      const end = Date.now() + ms;
      while (!(await fn().catch(() => false))) {
        if (Date.now() > end) throw new Error(`bench ui: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await page.goto(`${base}#/run/${runIds[0]}`);
    await page.locator('[data-view="run"]').waitFor();
    log('ui browser: waiting for both runs to stream');
    await until('live points', async () => Number(await page.locator('.metric-chart').first().getAttribute('data-points')) > 5);

    /** One pass of interactions; returns the Event Timing and Long Task entries it produced. */
    const pass = async () => {
      await page.evaluate('window.__perf.events = []; window.__perf.longtasks = []; window.__perf.marks = []');
      let n = 0;
      // Each interaction's window starts at its mark; entries are attributed by start time.
      const mark = (label: string) =>
        page.evaluate(`window.__perf.marks.push({ label: ${JSON.stringify(label)}, t: performance.now() }); performance.mark(${JSON.stringify(`bench:${label}`)})`);
      for (let round = 0; round < 3; round++) {
        for (const x of ['step', 'relative', 'episode']) {
          await mark(`x:${x}`);
          await page.locator(`.charts-panel [data-x="${x}"]`).click();
          n++;
          await page.waitForTimeout(300);
        }
        await mark('picker:open');
        await page.locator('[data-testid="metric-picker"]').click();
        await page.waitForTimeout(200);
        await mark('picker:close');
        await page.locator('[data-testid="metric-picker"]').click();
        n += 2;
        await mark('smoothing');
        await page.locator('[data-testid="smoothing"]').focus();
        for (let i = 0; i < 3; i++) (await page.keyboard.press('ArrowRight'), n++);
        for (const tab of ['replay', 'learner', 'charts']) {
          await mark(`tab:${tab}`);
          await page.locator(`[data-tab="${tab}"]`).click();
          n++;
          await page.waitForTimeout(400);
        }
        await mark('nav:history');
        await page.locator('[data-nav="history"]').click();
        await page.locator('.run-table [data-run-id]').first().waitFor();
        await page.waitForTimeout(300);
        await mark('open run');
        await page.locator(`.run-table [data-run-id="${runIds[0]}"]`).click();
        await page.locator('.charts-panel').waitFor();
        n += 2;
        await page.waitForTimeout(400);
      }
      await page.waitForTimeout(300);
      type Entry = { name?: string; start: number; duration: number; ps?: number; pe?: number };
      const perf = (await page.evaluate('window.__perf')) as { events: Entry[]; longtasks: Entry[]; marks: { label: string; t: number }[]; error?: string };
      if (perf.error) throw new Error(`bench ui: PerformanceObserver: ${perf.error}`);
      const by: BrowserUiBench['by_interaction'] = {};
      const labelAt = (t: number) => {
        let label = 'before first';
        for (const m of perf.marks) if (m.t <= t) label = m.label;
        return label;
      };
      const empty = (): InteractionRow => ({
        count: 0,
        event_max_ms: 0,
        longtask_max_ms: 0,
        worst_input_delay_ms: 0,
        worst_processing_ms: 0,
        worst_presentation_ms: 0,
      });
      for (const m of perf.marks) (by[m.label] ??= empty()).count++;
      for (const e of perf.events) {
        const row = (by[labelAt(e.start)] ??= empty());
        const d = Math.round(e.duration * 10) / 10;
        if (d < row.event_max_ms) continue;
        row.event_max_ms = d;
        Object.assign(row, eventPhases(e));
      }
      for (const e of perf.longtasks) {
        const row = (by[labelAt(e.start)] ??= empty());
        row.longtask_max_ms = Math.max(row.longtask_max_ms, Math.round(e.duration * 10) / 10);
      }
      return { n, events: perf.events.map((e) => e.duration), longtasks: perf.longtasks.map((e) => e.duration), by };
    };

    log('ui browser: interactions while two runs stream');
    const loadStart = os.loadavg()[0];
    const cdp = opts.profileFile ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    if (opts.traceFile) await browser.startTracing(page, { path: opts.traceFile, categories: TRACE_CATEGORIES });
    const live = await pass();
    const loadEnd = os.loadavg()[0];
    if (opts.traceFile) {
      await browser.stopTracing();
      log(`ui browser: trace of the streaming pass in ${opts.traceFile}`);
    }
    if (cdp && opts.profileFile) {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
      fs.writeFileSync(opts.profileFile, JSON.stringify(profile));
      log(`ui browser: CPU profile of the streaming pass in ${opts.profileFile}`);
    }
    const still = (await Promise.all(runIds.map((id) => workbench.getRun(id)))).filter((r) => r?.status === 'running').length;
    if (still < 2) throw new Error('bench ui: the runs finished before the measurement ended (raise the rounds)');
    for (const id of runIds) await workbench.stopRun(id);
    await runner.idle();
    log('ui browser: the same interactions with nothing streaming (baseline)');
    const idle = await pass();
    const r2 = (v: number) => Math.round(v * 10) / 10;
    return {
      interaction_p95_ms: r2(pct(live.events, 95)),
      interaction_max_ms: r2(Math.max(0, ...live.events)),
      longtask_max_ms: r2(Math.max(0, ...live.longtasks)),
      longtask_count: live.longtasks.length,
      idle_interaction_p95_ms: r2(pct(idle.events, 95)),
      idle_interaction_max_ms: r2(Math.max(0, ...idle.events)),
      idle_longtask_max_ms: r2(Math.max(0, ...idle.longtasks)),
      interactions: live.n,
      load_start: r2(loadStart),
      load_end: r2(loadEnd),
      by_interaction: live.by,
    };
  } finally {
    await browser.close().catch(() => undefined);
    await host.close().catch(() => undefined);
    await workbench.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
