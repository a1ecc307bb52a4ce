// @vitest-environment happy-dom
import { beforeAll, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { defineComponent } from 'vue';
import type { Replay } from '../../src-shared/envs/types';
import { registerBuiltinReplayRenderers } from '../../src-renderer/components/replay/builtin';
import { getReplayRenderer, registerReplayRenderer, replayKind } from '../../src-renderer/components/replay/registry';
import { actionText, observationAt, replayAgents, returnsUpTo } from '../../src-renderer/components/replay/generic/replay-read';
import GenericFrame from '../../src-renderer/components/replay/generic/GenericFrame.vue';
import GenericPanel from '../../src-renderer/components/replay/generic/GenericPanel.vue';

/** A speaker (box actions) and a listener (3 discrete actions), 3 steps, observations of 2 values. */
function replay(meta: Record<string, unknown> = {}): Replay {
  return {
    envId: 'talk',
    version: 1,
    steps: 3,
    meta: {
      agents: [
        { name: 'speaker', color: '#ff0000', boxNames: ['say a', 'say b'], obsLayout: [{ name: 'goal', size: 2 }] },
        { name: 'listener', actionNames: ['stay', 'left', 'right'], obsLayout: [{ name: 'heard', size: 1 }, { name: 'x', size: 1 }] },
      ],
      end: 'truncated',
      ...meta,
    },
    columns: {
      action: [-1, 0, -1, 2, -1, 1],
      box_action: [0.5, 0.25, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
      reward: [0, 0, 0, 0, -1, 2],
      obs: [1, 0, 0, 0, 1, 0, 0.5, 0.1, 1, 0, 0.25, 0.2, 1, 0, 0, 0.3],
    },
  };
}

describe('replay renderer registry', () => {
  beforeAll(() => registerBuiltinReplayRenderers());

  it('looks renderers up by the kind a replay declares, else its env id, else the generic view', () => {
    const world = defineComponent({ template: '<div />' });
    registerReplayRenderer('world2d-test', world);
    expect(replayKind(replay({ renderer: 'world2d-test' }))).toBe('world2d-test');
    expect(getReplayRenderer(replay({ renderer: 'world2d-test' }))?.kind).toBe('world2d-test');
    expect(getReplayRenderer({ envId: 'manitokan', version: 1, steps: 0, meta: {}, columns: {} })?.kind).toBe('manitokan');
    expect(getReplayRenderer(replay())?.kind).toBe('generic');
    expect(getReplayRenderer(replay({ renderer: 'nobody-registered-this' }))?.kind).toBe('generic');
  });

  it('takes agent colours from the replay meta, with the default palette where none is named', () => {
    const colors = getReplayRenderer(replay())!.agentColors(replay());
    expect(colors[0]).toBe('#ff0000');
    expect(colors[1]).toMatch(/^#[0-9a-f]{6}$/);
    expect(colors[1]).not.toBe('#ff0000');
  });

  it('marks rewards with the agent names from the meta', () => {
    const m = getReplayRenderer(replay())!.markers(replay());
    expect(m.map((x) => [x.step, x.agent, x.value, x.label])).toEqual([
      [2, 0, -1, 'speaker reward -1'],
      [2, 1, 2, 'listener reward 2'],
    ]);
  });
});

describe('generic replay reading', () => {
  it('names discrete actions and box components per agent', () => {
    const r = replay();
    const agents = replayAgents(r);
    expect(agents.map((a) => a.name)).toEqual(['speaker', 'listener']);
    expect(actionText(r, agents, 0, 0)).toBe('say a 0.500, say b 0.250');
    expect(actionText(r, agents, 1, 1)).toBe('right');
    expect(actionText(r, agents, 2, 1)).toBe('left');
  });

  it('sums returns up to a frame and reads observations per frame', () => {
    const r = replay();
    expect(returnsUpTo(r, 2, 0)).toEqual([0, 0]);
    expect(returnsUpTo(r, 2, 3)).toEqual([-1, 2]);
    expect(observationAt(r, 2, 1, 1)).toEqual([0.5, 0.1]);
    expect(observationAt(r, 2, 2, 1)).toEqual([0.25, 0.2]);
  });

  it('falls back to "agent i" and the shared action names of older replays', () => {
    const r: Replay = { envId: 'old', version: 1, steps: 2, meta: { numAgents: 2, actionNames: ['a', 'b'] }, columns: { action: [0, 1, 1, 0], reward: [0, 0, 1, 1] } };
    const agents = replayAgents(r);
    expect(agents.map((a) => a.name)).toEqual(['agent 0', 'agent 1']);
    expect(actionText(r, agents, 1, 0)).toBe('b');
    expect(observationAt(r, 2, 0, 0)).toBeNull();
  });
});

describe('GenericFrame and GenericPanel', () => {
  it('shows what each agent did and received at the step that led to the frame', async () => {
    const w = mount(GenericFrame, { props: { replay: replay(), frame: 3 } });
    const rows = w.findAll('[data-testid="generic-agent-row"]').map((r) => r.findAll('td').map((c) => c.text()));
    expect(rows).toEqual([
      ['speaker', 'say a 1, say b 0', '-1', '-1'],
      ['listener', 'left', '2', '2'],
    ]);
    expect(w.findAll('[data-testid="reward-dot"]')).toHaveLength(2);
    expect(w.find('th').element.parentElement!.textContent).toContain('action at step 2');
    await w.setProps({ frame: 0 });
    expect(w.findAll('[data-testid="generic-agent-row"]')[1].findAll('td').map((c) => c.text())).toEqual(['listener', '–', '–', '0']);
  });

  it('lists observations by their named blocks, or says when none were recorded', () => {
    const w = mount(GenericPanel, { props: { replay: replay(), frame: 2 } });
    expect(w.text()).toContain('heard');
    expect(w.text()).toContain('0.250');
    const none = mount(GenericPanel, { props: { replay: { ...replay(), columns: { reward: [0, 0, 0, 0, 0, 0] } }, frame: 1 } });
    expect(none.text()).toContain('does not record observations');
  });
});
