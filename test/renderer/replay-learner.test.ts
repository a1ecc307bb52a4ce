// @vitest-environment happy-dom
/**
 * What a learner records with an episode (src-shared/replay-annotations.ts), as the replay shows
 * it: the marked agent (ALITA's influencer) as a ring and badge in the learner's colour in the
 * 2-D world and the cell grid, and the per-agent step series as tracks under the timeline. The
 * replays are recorded by the real envs; the annotation is the one the learner side writes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { registerBuiltinReplayRenderers } from '../../src-renderer/components/replay/builtin';
import Grid2dFrame from '../../src-renderer/components/replay/grid2d/Grid2dFrame.vue';
import World2dFrame from '../../src-renderer/components/replay/world2d/World2dFrame.vue';
import LearnerTracks from '../../src-renderer/components/replay/learner/LearnerTracks.vue';
import { agentMarks, fmtValue, seriesTracks } from '../../src-renderer/components/replay/learner/learner-read';
import { defaults } from '../../src-shared/config/schema';
import { randomActions } from '../../src-shared/env-check';
import type { Replay } from '../../src-shared/envs/types';
import { getEnv } from '../../src-shared/registry';
import { annotateReplay, learnerAnnotations } from '../../src-shared/replay-annotations';
import { Rng } from '../../src-shared/rng';

function recordEpisode(envId: string, config: Record<string, unknown> = {}): Replay {
  const entry = getEnv(envId)!;
  const env = entry.create({ ...defaults(entry.schema), ...config } as never, { numEnvs: 1, autoReset: false });
  env.setRecording(0, true);
  env.reset(7);
  const rng = new Rng(3);
  const actions = new Int32Array(env.spec.numAgents);
  const box = new Float32Array(env.spec.numAgents * env.spec.boxSize);
  while (!env.finished[0]) {
    randomActions(env, actions, box, rng);
    env.step(actions, env.spec.boxSize ? box : undefined);
  }
  return env.drainEpisodes()[0].replay!;
}

const MARK = { agent: 1, label: 'influencer', color: '#d9480f' };

/** Agent 1 earns a bonus (+), the others pay a penalty (-), agent 2 nothing at step 0. */
function annotated(r: Replay, N: number): Replay {
  const values = Array.from({ length: r.steps * N }, (_, k) => {
    const t = Math.floor(k / N);
    const i = k % N;
    if (i === 1) return 0.01 * (t + 1);
    return i === 2 && t === 0 ? 0 : -0.002 * (i + 1);
  });
  return annotateReplay(r, N, 'alita', [{ key: 'intrinsic', title: 'intrinsic reward', values }], [MARK]);
}

beforeAll(() => registerBuiltinReplayRenderers());

describe('replay annotations (shared)', () => {
  it('refuses a series of the wrong length and a mark outside the agents, naming them', () => {
    const r = recordEpisode('spread', { episodeLimit: 5 });
    expect(() => annotateReplay(r, 3, 'x', [{ key: 'k', title: 'k', values: [1, 2] }], [])).toThrow(/'k': 2 values for 5 steps x 3 agents/);
    expect(() => annotateReplay(r, 3, 'x', [], [{ agent: 3, label: 'm', color: 'red' }])).toThrow(/agent 3 is not in 0\.\.2/);
    expect(() => annotateReplay(r, 3, 'x', [{ key: 'a b', title: 'k', values: [] }], [])).toThrow(/letters, digits/);
  });

  it("leaves the env's columns and meta as they were, and reads back what was declared", () => {
    const r = recordEpisode('spread', { episodeLimit: 5 });
    const a = annotated(r, 3);
    expect(a.columns.reward).toBe(r.columns.reward);
    expect(r.meta.learner).toBeUndefined();
    expect(learnerAnnotations(a)).toEqual({ learner: 'alita', series: [{ key: 'intrinsic', title: 'intrinsic reward' }], marks: [MARK] });
    expect(learnerAnnotations(r)).toBeNull();
    // A declaration without its column is ignored rather than drawn empty.
    const broken = { ...a, columns: { ...r.columns } };
    expect(learnerAnnotations(broken)?.series).toEqual([]);
  });
});

describe('marked agents', () => {
  it('2-D world: a ring and a badge around the marked agent only, in the colour the learner declared', () => {
    const r = annotated(recordEpisode('spread', { episodeLimit: 5 }), 3);
    const w = mount(World2dFrame, { props: { replay: r, frame: 2 } });
    const rings = w.findAll('[data-testid="agent-mark"]');
    expect(rings).toHaveLength(1);
    expect(rings[0].attributes('data-agent')).toBe('1');
    expect(rings[0].attributes("stroke")).toBe("#d9480f");
    expect((rings[0].element as SVGElement).style.stroke).toMatch(/#d9480f|rgb\(217, 72, 15\)/);
    // The ring is centred on agent 1's circle and wider than it.
    const agent = w.findAll('g.entity.agent')[1];
    const body = agent.findAll('circle').at(-1)!;
    expect(rings[0].attributes('cx')).toBe(body.attributes('cx'));
    expect(Number(rings[0].attributes('r'))).toBeGreaterThan(Number(body.attributes('r')));
    expect(agent.find('.mark-badge').text()).toBe('influencer');
    expect(w.findAll('g.entity.agent')[0].find('.mark-badge').exists()).toBe(false);
    // Unannotated: nothing drawn.
    expect(mount(World2dFrame, { props: { replay: recordEpisode('spread', { episodeLimit: 5 }), frame: 2 } }).find('[data-testid="agent-mark"]').exists()).toBe(false);
  });

  it('cell grid: a ring around the marked agent and a legend entry naming it', () => {
    const raw = recordEpisode('push-box', { episodeLimit: 6 });
    const r = annotateReplay(raw, 2, 'alita', [], [{ agent: 0, label: 'influencer', color: '#d9480f' }]);
    const w = mount(Grid2dFrame, { props: { replay: r, frame: 3 } });
    const rings = w.findAll('[data-testid="agent-mark"]');
    expect(rings).toHaveLength(1);
    expect(rings[0].attributes('data-agent')).toBe('0');
    expect(rings[0].attributes("stroke")).toBe("#d9480f");
    expect((rings[0].element as SVGElement).style.stroke).toMatch(/#d9480f|rgb\(217, 72, 15\)/);
    const body = w.findAll('circle.agent')[0];
    expect(rings[0].attributes('cx')).toBe(body.attributes('cx'));
    expect(w.find('[data-testid="grid2d-legend"]').text()).toContain('influencer: agent 0');
    expect(agentMarks(r).get(0)).toHaveLength(1);
  });
});

describe('learner tracks under the timeline', () => {
  it('one row per agent on one scale; the label shows the step that led to the frame', async () => {
    const r = annotated(recordEpisode('spread', { episodeLimit: 6 }), 3);
    const t = seriesTracks(r);
    expect(t).toHaveLength(1);
    expect(t[0].rows.map((x) => x.name)).toEqual(['agent 0', 'agent 1', 'agent 2']);
    expect(t[0].scale).toBeCloseTo(0.06, 9);
    const w = mount(LearnerTracks, { props: { replay: r, frame: 3, lastFrame: r.steps, agentColors: ['#111111', '#222222', '#333333'] } });
    const rows = w.findAll('.row');
    expect(rows).toHaveLength(3);
    // Frame 3 shows the state after step index 2: agent 1's bonus 0.03.
    expect(rows[1].find('[data-testid="learner-track-value"]').text()).toBe('0.03');
    expect(rows[0].find('[data-testid="learner-track-value"]').text()).toBe('-0.002');
    await w.setProps({ frame: 0 });
    expect(rows[1].find('[data-testid="learner-track-value"]').text()).toBe('–');
    // Bars: agent 1's all above the zero line (y < 10), agent 0's below; in the agent's colour.
    const path = (k: number) => rows[k].find('[data-testid="learner-track-bars"]');
    expect(path(1).attributes('fill')).toBe('#222222');
    const ys = (d: string) => [...d.matchAll(/M[\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys(path(1).attributes('d')!).every((y) => y < 10)).toBe(true);
    expect(ys(path(0).attributes('d')!).every((y) => y === 10)).toBe(true);
    // Agent 2's zero at step 0 draws no bar: 5 bars for 6 steps.
    expect((path(2).attributes('d')!.match(/M/g) ?? []).length).toBe(r.steps - 1);
    // The bar of step t is centred on frame t + 1 (as the timeline's events).
    expect(Number(path(1).attributes('d')!.match(/^M([\d.]+)/)![1])).toBeCloseTo(1 - 0.4, 6);
  });

  it('clicking a track seeks to the frame under the pointer', async () => {
    const r = annotated(recordEpisode('spread', { episodeLimit: 10 }), 3);
    const w = mount(LearnerTracks, { props: { replay: r, frame: 0, lastFrame: r.steps, agentColors: [] }, attachTo: document.body });
    const track = w.findAll('.track')[0];
    (track.element as HTMLElement).getBoundingClientRect = () => ({ left: 100, width: 200, top: 0, height: 20, right: 300, bottom: 20, x: 100, y: 0, toJSON: () => ({}) });
    await track.trigger('click', { clientX: 200 });
    expect(w.emitted('seek')?.[0]).toEqual([Math.round(r.steps / 2)]);
    w.unmount();
  });

  it('shows nothing for a replay no learner annotated', () => {
    const r = recordEpisode('spread', { episodeLimit: 5 });
    expect(mount(LearnerTracks, { props: { replay: r, frame: 1, lastFrame: r.steps, agentColors: [] } }).find('[data-testid="learner-tracks"]').exists()).toBe(false);
  });

  it('formats values compactly', () => {
    expect([fmtValue(null), fmtValue(0), fmtValue(0.0123456), fmtValue(-2e-7), fmtValue(1234.5)]).toEqual(['–', '0', '0.0123', '-2.00e-7', '1230']);
  });
});
