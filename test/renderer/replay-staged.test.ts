// @vitest-environment happy-dom
/**
 * Opening the Replay tab reveals it in stages, one per painted frame (src-renderer/lib/staged.ts,
 * components/replay/ReplayTab.vue): the click paints the panels' frames, then the picture, the
 * episode rows, then the side panel and the timeline, each in a task after a paint. Frames are
 * driven by hand here (requestAnimationFrame is a queue this test flushes).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, nextTick } from 'vue';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { Replay } from '../../src-shared/envs/types';
import { setApi } from '../../src-renderer/api/use-api';
import { useReplayPlayerStore } from '../../src-renderer/stores/replay-player';
import { registerReplayRenderer } from '../../src-renderer/components/replay/registry';
import { afterNextPaint, useStages } from '../../src-renderer/lib/staged';
import ReplayTab from '../../src-renderer/components/replay/ReplayTab.vue';
import { fakeClient } from './fake-client';

let frames: (() => void)[] = [];
/** One painted frame: the rAF callbacks, then (after the "paint") the macrotasks they queued. */
async function paint(): Promise<void> {
  const now = frames;
  frames = [];
  for (const f of now) f();
  await new Promise((r) => setTimeout(r, 0));
  await nextTick();
}

const Frame = defineComponent({ props: ['replay', 'frame'], setup: () => () => h('div', { 'data-testid': 'stub-frame' }) });
const Panel = defineComponent({ props: ['replay', 'frame'], setup: () => () => h('div', { 'data-testid': 'stub-panel' }) });
const replay: Replay = { envId: 'staged-test', version: 1, steps: 4, meta: { renderer: 'staged-test' }, columns: { reward: [0, 0, 1, 0] } };

beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
  vi.stubGlobal('cancelAnimationFrame', () => undefined);
  setActivePinia(createPinia());
  setApi(fakeClient({ getReplay: async () => replay }));
  registerReplayRenderer('staged-test', Frame, { panel: Panel });
});
afterEach(() => {
  vi.unstubAllGlobals();
  setApi(null);
});

describe('staged reveal', () => {
  it('afterNextPaint runs after the frame callback, never inside it, and can be cancelled', async () => {
    const seen: string[] = [];
    afterNextPaint(() => seen.push('a'));
    const cancel = afterNextPaint(() => seen.push('b'));
    expect(frames).toHaveLength(2);
    cancel();
    const now = frames;
    frames = [];
    for (const f of now) f();
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['a']);
  });

  it('useStages counts one stage per painted frame up to its last, and stops when unmounted', async () => {
    let stage = { value: -1 };
    const C = defineComponent({
      setup() {
        stage = useStages(2);
        return () => h('i', String(stage.value));
      },
    });
    const w = mount(C);
    expect(w.text()).toBe('0');
    await paint();
    expect(w.text()).toBe('1');
    await paint();
    expect(w.text()).toBe('2');
    expect(frames).toHaveLength(0);
    const w2 = mount(C);
    expect(frames).toHaveLength(1);
    w2.unmount();
    await paint();
    expect(stage.value).toBe(0);
  });

  it('the Replay tab paints its frame first, then the picture, the episode rows, the panel and the timeline', async () => {
    const player = useReplayPlayerStore();
    player.attach(5);
    await player.openEpisode(1);
    const w = mount(ReplayTab, { props: { canFollow: false }, global: { stubs: { EpisodeList: { template: '<section data-testid="stub-episodes" />' } } } });
    const has = (sel: string) => w.find(sel).exists();
    // Stage 0, the click's own paint: the panels' frames and the controls, nothing heavy.
    expect(has('[data-testid="replay-viewer"]')).toBe(true);
    expect(has('[data-testid="play"]')).toBe(true);
    expect([has('[data-testid="stub-frame"]'), has('[data-testid="stub-episodes"]'), has('[data-testid="stub-panel"]'), has('[data-testid="timeline"]')]).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(has('.episodes-pending')).toBe(true);
    await paint();
    expect([has('[data-testid="stub-frame"]'), has('[data-testid="stub-episodes"]'), has('[data-testid="stub-panel"]')]).toEqual([true, false, false]);
    await paint();
    expect([has('[data-testid="stub-episodes"]'), has('.episodes-pending'), has('[data-testid="stub-panel"]')]).toEqual([true, false, false]);
    await paint();
    expect([has('[data-testid="stub-panel"]'), has('[data-testid="timeline"]')]).toEqual([true, true]);
    expect(w.find('[data-testid="replay-tab"]').attributes('data-stage')).toBe('3');
    expect(frames).toHaveLength(0);
    w.unmount();
  });
});
