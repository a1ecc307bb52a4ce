// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Replay } from '../../src-shared/envs/types';
import { EVENT_DROP, EVENT_DOOR_OPENED, EVENT_NO_EFFECT, EVENT_PICKUP } from '../../src-shared/envs/manitokan-replay';
import { manitokanMarkers } from '../../src-renderer/components/replay/manitokan-timeline';
import { genericMarkers } from '../../src-renderer/components/replay/registry';
import ReplayTimeline from '../../src-renderer/components/replay/ReplayTimeline.vue';

/** 2 agents, 5 steps: agent 0 picks up the key at t=1, drops it at t=2 (the gift), agent 1
 * picks it up at t=3 and opens its door at t=4, earning reward 1; a bumped wall at t=0. */
function replay(): Replay {
  const N = 2;
  const steps = 5;
  const event = new Array(steps * N).fill(0);
  const reward = new Array(steps * N).fill(0);
  event[0 * N + 1] = EVENT_NO_EFFECT;
  event[1 * N + 0] = EVENT_PICKUP;
  event[2 * N + 0] = EVENT_DROP;
  event[3 * N + 1] = EVENT_PICKUP;
  event[4 * N + 1] = EVENT_DOOR_OPENED;
  reward[4 * N + 1] = 1;
  reward[4 * N + 0] = 0.5;
  return { envId: 'manitokan', version: 1, steps, meta: { numAgents: N }, columns: { event, reward } };
}

describe('Manitokan timeline markers', () => {
  it('finds pick-ups, drops, door openings and rewards at the right steps and frames', () => {
    const m = manitokanMarkers(replay());
    expect(m.map((x) => [x.kind, x.agent, x.step, x.frame])).toEqual([
      ['pickup', 0, 1, 2],
      ['drop', 0, 2, 3],
      ['pickup', 1, 3, 4],
      ['reward', 0, 4, 5],
      ['door', 1, 4, 5],
      ['reward', 1, 4, 5],
    ]);
    expect(m.find((x) => x.kind === 'reward' && x.agent === 1)?.value).toBe(1);
    expect(m.find((x) => x.kind === 'drop')?.label).toBe('agent 0 dropped the key');
  });

  it('has no markers for a quiet episode, and ignores the no-effect bit', () => {
    const r = replay();
    const quiet = { ...r, columns: { event: r.columns.event.map((e) => e & EVENT_NO_EFFECT), reward: r.columns.reward.map(() => 0) } };
    expect(manitokanMarkers(quiet)).toEqual([]);
  });

  it('reads the bit values from meta.eventBits when the replay carries them', () => {
    const r = replay();
    const swapped = { ...r, meta: { numAgents: 2, eventBits: { pickup: 2, drop: 1, doorOpened: 4, noEffect: 8 } } };
    const kinds = manitokanMarkers(swapped).filter((m) => m.agent === 0 && m.kind !== 'reward').map((m) => m.kind);
    expect(kinds).toEqual(['drop', 'pickup']);
  });

  it('falls back to reward markers for envs without their own', () => {
    const m = genericMarkers({ envId: 'other', version: 1, steps: 3, meta: {}, columns: { reward: [0, 0, 2, 0, 0, -1] } });
    expect(m.map((x) => [x.agent, x.step, x.value])).toEqual([[0, 1, 2], [1, 2, -1]]);
  });
});

describe('ReplayTimeline', () => {
  it('puts one clickable marker per moment in its lane and seeks to its frame', async () => {
    const markers = manitokanMarkers(replay());
    const w = mount(ReplayTimeline, { props: { markers, frame: 0, lastFrame: 5, agentColors: ['#f0f', '#ff0'] } });
    const drops = w.findAll('.lane.drop .marker');
    expect(drops).toHaveLength(1);
    expect(drops[0].attributes('data-frame')).toBe('3');
    expect(drops[0].attributes('style')).toContain('left: 60%');
    await drops[0].trigger('click');
    expect(w.emitted('seek')?.[0]).toEqual([3]);
    expect(w.find('.lane.pickup .count').text()).toBe('2');
    // "next pick-up" from frame 0 goes to the first one.
    await w.find('.lane.pickup button[aria-label="Next key picked up"]').trigger('click');
    expect(w.emitted('seek')?.[1]).toEqual([2]);
  });
});
