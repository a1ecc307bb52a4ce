/**
 * Influence made visible (issue 9 item 6), end to end in a real browser: the REAL `cairn serve`
 * on a temporary database trains ALITA on Cooperative Navigation (2-D world) and on Push-Box
 * (cell grid) in real workers; Debian's Chromium (playwright-core) opens a stored episode of
 * each and finds the influencer ringed in the learner's colour, each agent's intrinsic reward
 * as a track under the timeline whose label follows the scrubber, and clicking a track seeks.
 * Screenshots: test-results/screenshots/influence-*.png.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAVE_CHROMIUM, SHOTS, startServeSession, type ServeSession } from './serve-session';

/** The stroke the browser paints (runs in the page; the test's tsconfig has no DOM types). */
const paintedStroke = (e: unknown): string => (globalThis as unknown as { getComputedStyle(x: unknown): { stroke: string } }).getComputedStyle(e).stroke;
const paintedWidth = (e: unknown): number => parseFloat((globalThis as unknown as { getComputedStyle(x: unknown): { strokeWidth: string } }).getComputedStyle(e).strokeWidth);

describe.skipIf(!HAVE_CHROMIUM)('influence in the replay, in a real browser against cairn serve', () => {
  let session: ServeSession;
  let url = '';
  let page: Page;
  const api = <T>(method: string, ...args: unknown[]) => session.api<T>(method, ...args);
  const until = (what: string, fn: () => Promise<boolean>, timeoutMs?: number) => session.until(what, fn, timeoutMs);

  beforeAll(async () => {
    session = await startServeSession('cairn-e2e-infl-');
    ({ url, page } = session);
  }, 180_000);

  afterAll(async () => {
    await session?.close();
  }, 30_000);

  /** Train, open the run's replay tab and its newest stored episode; returns the run id. */
  async function trainAndOpen(req: Record<string, unknown>): Promise<number> {
    const { runIds } = await api<{ runIds: number[] }>('launch', { ...req, seeds: [1] });
    const id = runIds[0];
    await until(`run ${id} to finish`, async () => (await api<{ status: string }>('getRun', id)).status === 'done', 240_000);
    await page.goto(url.replace(/#.*$/, '') + `#/run/${id}?tab=replay`);
    await page.locator('[data-testid="replay-viewer"]').waitFor();
    const rows = page.locator('[data-testid="episode-list"] tr[data-episode]');
    await until('stored episodes', async () => (await rows.count()) > 0);
    await rows.first().click();
    await until('the episode to open', async () => /\(stored\)$/.test((await page.locator('[data-testid="replay-source"]').textContent()) ?? ''));
    return id;
  }

  it('2-D world: the influencer ringed in its colour, intrinsic reward per agent under the timeline', async () => {
    await trainAndOpen({ preset: 'spread-n3-alita', overrides: { train: { episodes: 3, numEnvs: 2, replayEvery: 1 } } });
    const ring = page.locator('[data-testid="world2d"] [data-testid="agent-mark"]');
    expect(await ring.count()).toBe(1);
    expect(await ring.getAttribute('stroke')).toBe('#d9480f');
    // What is painted, not only the attribute (the agents' CSS stroke once hid the colour).
    expect(await ring.evaluate(paintedStroke)).toBe('rgb(217, 72, 15)');
    expect(await ring.evaluate(paintedWidth)).toBeGreaterThanOrEqual(3);
    const influencer = Number(await ring.getAttribute('data-agent'));
    expect(await page.locator('[data-testid="world2d"] .mark-badge').textContent()).toBe('influencer');
    const tracks = page.locator('[data-testid="learner-tracks"] [data-series="intrinsic"] .row');
    expect(await tracks.count()).toBe(3);
    // Scrub to frame 5: the influencer's label shows a bonus (> 0), the others a penalty (< 0).
    await page.locator('[data-testid="scrub"]').fill('5');
    for (let i = 0; i < 3; i++) {
      const v = Number(await tracks.nth(i).locator('[data-testid="learner-track-value"]').textContent());
      if (i === influencer) expect(v).toBeGreaterThan(0);
      else expect(v).toBeLessThan(0);
    }
    // Clicking near the end of a track seeks there.
    const box = (await tracks.nth(0).locator('.track').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.9, box.y + box.height / 2);
    const frame = Number(((await page.locator('[data-testid="frame-label"]').textContent()) ?? '').split('/')[0]);
    expect(frame).toBeGreaterThan(15);
    await page.locator('[data-testid="scrub"]').fill('12');
    await page.screenshot({ path: path.join(SHOTS, 'influence-world2d.png'), fullPage: true });
  }, 300_000);

  it('cell grid (Push-Box): the influencer ringed and named in the legend, with its track', async () => {
    await trainAndOpen({
      overrides: { env: { id: 'push-box', episodeLimit: 60 }, algo: { id: 'alita', lambdaPi: 0.1, omega: 0.1, lambda: 0.15 }, train: { episodes: 2, numEnvs: 2, replayEvery: 1 } },
    });
    const ring = page.locator('[data-testid="grid2d"] [data-testid="agent-mark"]');
    expect(await ring.count()).toBe(1);
    expect(await ring.getAttribute('stroke')).toBe('#d9480f');
    expect(await ring.evaluate(paintedStroke)).toBe('rgb(217, 72, 15)');
    expect(await page.locator('[data-testid="grid2d-legend"]').textContent()).toMatch(/influencer: agent [01]/);
    expect(await page.locator('[data-testid="learner-tracks"] [data-series="intrinsic"] .row').count()).toBe(2);
    await page.locator('[data-testid="scrub"]').fill('20');
    await page.screenshot({ path: path.join(SHOTS, 'influence-grid2d.png'), fullPage: true });
  }, 300_000);
});
