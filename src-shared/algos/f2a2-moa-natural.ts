/**
 * The rest of F2A2's model of other agents (shared/specs/f2a2.md §3.1-3.3, paper §5.2 and
 * Figure 3, appendix G): for every ordered pair (i, j) a **character net**, a **mental net** and
 * a **natural prediction net**, whose output is combined with the impromptu prediction net of
 * f2a2-moa.ts (MoaBank) into agent i's model pi~^{ij} of agent j.
 *
 *   character  2-layer GRU (64 units) over [o^j_t, onehot a^j_t] of 25-step windows of the 1,000
 *              trajectories collected once with uniformly random legal actions before training;
 *              e_char^{ij} = mean over a random subset (`moaCharSubset`, 32) of those windows of
 *              the top layer's final state (spec §3.1 cost choice).
 *   mental     2-layer GRU (64 units) over the last 5 steps [o^j, onehot a^j] of the current
 *              episode, zero-padded in front at episode start; for a prediction at t the window
 *              is t-5..t-1 (for the next-step prediction at t+1: t-4..t).
 *   natural    MLP [x_t = o^j_t, e_char, e_mental] -> 128 -> 128 (LeakyReLU) -> logits over A^j.
 *   combine    'mean' (spec default): pi~ = 1/2 softmax(natural) + 1/2 softmax(impromptu);
 *              'poe': softmax(natural + impromptu logits); 'learnedGate': g = sigmoid(linear(x_t)),
 *              pi~ = g softmax(natural) + (1 - g) softmax(impromptu).
 *   losses     natural: cross-entropy of its own softmax against the executed a^j on 1,600
 *              positions drawn uniformly from the replay, gradients reaching both GRUs through
 *              it (§3.2); impromptu: unchanged (its FIFO, MoaBank.step). `moaCombinedCE` adds the
 *              CE of the combined distribution. The learned gate is trained by that combined CE
 *              only; without `moaCombinedCE` the gate's CE sees the two nets' distributions as
 *              constants, so each net keeps exactly the spec's own loss.
 *   cadence    one Adam step (RL learning rate) per update iteration, next to the impromptu step.
 *
 * Default: `moaModel: 'full'`, because the paper's text (§5.2, Figure 3, appendix G) describes
 * exactly this model and no other; 'impromptu' keeps the impromptu net alone (the behaviour of
 * f2a2 before this file existed: with it every run is bit-identical to before, since nothing
 * here is built, stored or drawn from the run's Rng).
 *
 * Design choices beyond the spec, and why:
 * - Episode windows without copies: the replay stores one extra column per transition, the
 *   ring slot of the same copy's previous transition of the episode (-1 at its start). A window
 *   is that chain followed back. A link is trusted only while its row is older than the row
 *   that points to it (an overwritten row is newer than every row still present), so the few
 *   oldest rows of a full ring whose predecessors were evicted get zero padding, like an
 *   episode start. One float per transition instead of 5 x (obs + action) per agent: on
 *   Treasure Collection a 5-step copy would be 3,620 floats per row. The column lives in the
 *   replay, so it is checkpointed with it; the per-copy last slots are reset at every round's
 *   episode starts, so they need no checkpoint.
 * - The character data are regenerated, not checkpointed (72 MB on Treasure Collection): they
 *   are a pure function of the env config and a collection seed (derived from the run's seed,
 *   saved in the checkpoint), collected on the training env between `getState()` and
 *   `setState()`, so training episodes are the same as without collection. Collection steps
 *   are not counted as training env steps (the paper's curves start after it); they are
 *   logged once as `moa/char_env_steps`. On Treasure Collection (100-step episodes) each
 *   trajectory keeps one random 25-step window, drawn at collection (spec §3.1).
 * - Networks are per observer: agent i's n - 1 pair networks are one grouped set (weights
 *   [n - 1, in, out], nn/gru.ts GRUCell groups, nn/mlp.ts Mlp groups), with its own Adam, so a
 *   step's GRU activations are those of n - 1 pairs, not of all n (n - 1): at the paper's 1,600
 *   positions x 5 steps the all-pair BPTT trace of Treasure Collection would be ~1.2 GB.
 *   Each observer's model is then also its own, as F2A2's decentralisation has it.
 * - Predictions inside the RL update use e_char from the last MOA step, recomputed without
 *   gradient after that step on the same subset (the character of the current weights); it is
 *   checkpointed. Before the first step it is computed at construction.
 * - Inputs of agent j are padded to the widest observation and action (as MoaBank); padded
 *   logits are masked to -1e9.
 * - The character and mental GRUs' gate math runs on the float32 SIMD wasm kernel by default
 *   (`moaGruGates: 'f32-simd'`, nn/gru.ts GRU_GATES, as PG's and COMA's `gruGates`); 'f64-js'
 *   is the float64 JS reference this file used before the option. The paper is silent (its
 *   code is PyTorch float32); the kernel is chosen for speed (~1.5x less CPU per F2A2-SAC round
 *   on Rover-Tower, docs/performance.md, F2A2-SAC section) and moves values by float32 rounding
 *   only (test/algos/f2a2-moa-natural.test.ts compares the loss and every gradient).
 * Not built: the LSTM option of the character/mental nets (§3.1 PAPER-ISSUE: no LSTM in nn/),
 * and x_t = joint observation (the spec's `joint` option; the impromptu net lacks it too).
 */
import type { Schema } from '../config/schema';
import type { VecEnv } from '../envs/types';
import { GRU_GATES, GRUCell, type GruGates } from '../nn/gru';
import { copyMatMul } from '../nn/attention-critic-copies';
import { applyActivation, groupedLinear, Linear, Mlp } from '../nn/mlp';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf } from '../nn/tf';
import { deriveSeed, Rng } from '../rng';
import { MASKED_LOGIT } from './core/action-codec';
import { LockstepRollout } from './core/rollout';
import type { TransitionBuffer } from './core/transition-buffer';
import type { MoaBank } from './f2a2-moa';
import type { JointLayout } from './maddpg-trainer';

const FULL = { field: 'moaModel', is: 'full' } as const;

export const moaNaturalSchema = {
  moaModel: { type: 'enum', default: 'full', values: ['full', 'impromptu'], doc: "MOA model: the paper's character + mental + natural nets combined with the impromptu net (full), or the impromptu net alone (cheaper; f2a2's behaviour before the full model).", when: { field: 'moa', is: 'on' } },
  moaCombine: { type: 'enum', default: 'mean', values: ['mean', 'poe', 'learnedGate'], doc: 'How the natural and impromptu predictions combine (spec §3.1): the mean of their softmaxes, the softmax of summed logits, or a sigmoid gate of x_t.', when: FULL },
  moaCombinedCE: { type: 'bool', default: false, doc: 'Add the cross-entropy of the combined distribution to the natural nets\' loss (spec §3.2 option).', when: FULL },
  moaCharTrajectories: { type: 'int', default: 1000, min: 1, max: 100_000, doc: 'Trajectories collected once with random policies for the character net (paper G: 1000).', when: FULL },
  moaCharLength: { type: 'int', default: 25, min: 1, max: 10_000, doc: "Steps per character trajectory (paper G: 25, the episode length; longer episodes keep a random window).", when: FULL },
  moaCharSubset: { type: 'int', default: 32, min: 1, max: 100_000, doc: 'Character trajectories encoded per MOA step to estimate e_char (spec §3.1 cost choice; >= moaCharTrajectories = all).', when: FULL },
  moaMentalLength: { type: 'int', default: 5, min: 1, max: 1000, doc: 'Steps of the current episode the mental net reads (paper G: 5).', when: FULL },
  moaNaturalBatch: { type: 'int', default: 1600, min: 1, max: 1_000_000, doc: 'Replay positions per natural-net MOA step (paper G: 1600).', when: FULL },
  moaGruHidden: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Units of each layer of the 2-layer character and mental GRUs (paper G: 64).', when: FULL },
  moaNaturalHidden: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Units of each of the two LeakyReLU layers of the natural prediction net (paper G: 128).', when: FULL },
  moaGruGates: { type: 'enum', default: 'f32-simd', values: [...GRU_GATES], doc: "Kernel of the character and mental GRUs' gate math (as the actors' gruGates: forward gates and BPTT gate derivatives). f32-simd: hand-written float32 SIMD wasm (nn/wasm/gru-gates.as.ts; polynomial exp/tanh within ~1 float32 eps), on wasm/cpu with the per-step hidden matmuls in the same kernel (nn/gru.ts); f32-simd-tfjs-matmul: the same gates with every matmul in tfjs (same bits on wasm); f64-js: float64 JS loops with Math.exp and tfjs matmuls, the reference (the only kernel before this option). Same mathematics; results differ by float rounding only.", when: FULL },
} as const satisfies Schema;

export interface MoaNaturalConfig {
  readonly moaCombine: string;
  readonly moaCombinedCE: boolean;
  readonly moaCharTrajectories: number;
  readonly moaCharLength: number;
  readonly moaCharSubset: number;
  readonly moaMentalLength: number;
  readonly moaNaturalBatch: number;
  readonly moaGruHidden: number;
  readonly moaNaturalHidden: number;
  readonly moaGruGates: GruGates;
  readonly moaLr: number;
}

/** Replay column of the episode back-links. */
export const MOA_PREV_FIELD = 'moaPrev';
const CHAR_STREAM = 7_411;

/** Age of ring slot x (0 = newest row). */
function age(buf: TransitionBuffer, x: number): number {
  return (buf.nextSlot - 1 - x + buf.capacity) % buf.capacity;
}

/**
 * Back-links of the replay rows to the previous transition of the same episode and copy (see
 * the header). The owner adds `MOA_PREV_FIELD` (width 1) to its replay, stores `row()` with
 * each step, calls `afterStore` after the insert and `reset` at episode starts.
 */
export class EpisodeLinks {
  /** Slot of each copy's last stored transition in the current episode, -1 before the first. */
  readonly last: Int32Array;
  private readonly rowBuf: Float32Array;
  constructor(readonly B: number) {
    this.last = new Int32Array(B).fill(-1);
    this.rowBuf = new Float32Array(B);
  }
  reset(): void {
    this.last.fill(-1);
  }
  row(): Float32Array {
    for (let b = 0; b < this.B; b++) this.rowBuf[b] = this.last[b];
    return this.rowBuf;
  }
  /** The valid copies' rows went to consecutive slots ending at nextSlot - 1 (TransitionBuffer.insert). */
  afterStore(buf: TransitionBuffer, valid: ArrayLike<number>): void {
    let k = 0;
    for (let b = 0; b < valid.length; b++) k += valid[b] ? 1 : 0;
    let r = 0;
    for (let b = 0; b < valid.length; b++) {
      if (!valid[b]) continue;
      // More rows than the ring holds: the first ones were overwritten in the same insert.
      this.last[b] = k - r > buf.capacity ? -1 : (buf.nextSlot - k + r + 2 * buf.capacity) % buf.capacity;
      r++;
    }
  }
}

/**
 * Slots of the L rows before row s of its episode, oldest first, -1 where the episode had not
 * started (or the row was evicted), written to out[off..off+L).
 */
export function precedingSlots(buf: TransitionBuffer, s: number, L: number, out: Int32Array, off: number): void {
  let cur = s;
  for (let m = L - 1; m >= 0; m--) {
    const p = cur < 0 ? -1 : buf.row(MOA_PREV_FIELD, cur)[0];
    const ok = p >= 0 && age(buf, p) > age(buf, cur);
    cur = ok ? p : -1;
    out[off + m] = cur;
  }
}

/**
 * 1,000 (`M`) trajectories of uniformly random legal actions, L steps each, as joint rows
 * [o_1..o_N, onehot a_1..a_N] ([M, L, obsTotal + actTotal]), shorter episodes zero-padded in
 * front, longer ones cut to a random window. Runs on `env` between getState and setState, so
 * the env is left exactly as it was. Returns the data and the env steps taken.
 */
export function collectCharacter(env: VecEnv, lay: JointLayout, M: number, L: number, seed: number): { data: Float32Array; envSteps: number } {
  const spec = env.spec;
  const { N, obsTotal, actTotal } = lay;
  const W = obsTotal + actTotal;
  const B = env.numEnvs;
  const O = spec.obsSize;
  const A = spec.numActions;
  const T = spec.episodeLimit;
  const saved = env.getState();
  const rng = new Rng(seed, CHAR_STREAM);
  const ro = new LockstepRollout(env, seed);
  const ep = new Float32Array(B * T * W);
  const data = new Float32Array(M * L * W);
  let done = 0;
  let envSteps = 0;
  while (done < M) {
    ro.begin();
    ep.fill(0);
    const res = ro.run({
      act: (t) => {
        for (let b = 0; b < B; b++) {
          if (!ro.valid[t * B + b]) continue;
          const row = (b * T + t) * W;
          for (let i = 0; i < N; i++) {
            const src = (b * N + i) * O;
            ep.set(env.obs.subarray(src, src + lay.obsSizes[i]), row + lay.obsOff[i]);
            let legal = 0;
            for (let a = 0; a < A; a++) legal += env.actionMask[(b * N + i) * A + a];
            let pick = rng.int(Math.max(1, legal));
            let a = 0;
            for (; a < A; a++) if (env.actionMask[(b * N + i) * A + a] && pick-- === 0) break;
            a = a < A ? a : 0;
            ro.actions[b * N + i] = a;
            if (a < lay.codecs[i].dim) ep[row + obsTotal + lay.actOff[i] + a] = 1;
          }
        }
      },
    });
    envSteps += res.envSteps;
    for (let b = 0; b < B && done < M; b++, done++) {
      const len = ro.endStep[b] + 1;
      const n = Math.min(L, len);
      const start = len > L ? rng.int(len - L + 1) : 0;
      data.set(ep.subarray((b * T + start) * W, (b * T + start + n) * W), (done * L + (L - n)) * W);
    }
  }
  env.setState(saved);
  return { data, envSteps };
}

/** Identity whose gradient is zero: the learned gate's CE sees the nets' outputs as constants. */
function detach(tf: Tf, x: Tensor): Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const [xi] = args as Tensor[];
    return { value: tf.clone(xi), gradFunc: (dy: Tensor) => [tf.zerosLike(dy)] };
  });
  return op(x);
}

/** Agent i's networks for its n - 1 pairs (pair k = the k-th agent j != i). */
interface Observer {
  readonly targets: number[];
  readonly params: ParamSet;
  readonly opt: Adam;
  /** Non-trainable: e_char [G, 1, H] of the current weights (checkpointed). */
  readonly cache: ParamSet;
  readonly char: [GRUCell, GRUCell];
  readonly mental: [GRUCell, GRUCell];
  readonly natural: Mlp;
  readonly gate: Linear | null;
  /** [G, 1, outDim] 1 on each pair's real actions. */
  readonly outMask: Tensor;
}

export class NaturalMoa {
  readonly observers: Observer[] = [];
  readonly inDim: number;
  readonly outDim: number;
  /** Floats per step of one agent: [o^j padded, onehot a^j padded]. */
  readonly stepW: number;
  readonly links: EpisodeLinks;
  /** Character trajectories [M, L, obsTotal + actTotal] (regenerated, see the header). */
  private charData: Float32Array;
  charSeed: number;
  charEnvSteps = 0;
  private readonly H: number;
  private readonly L: number;
  private readonly M: number;

  constructor(
    private readonly tf: Tf,
    private readonly lay: JointLayout,
    private readonly cfg: MoaNaturalConfig,
    private readonly env: VecEnv,
    runSeed: number,
    rng: Rng,
  ) {
    const n = lay.N;
    this.inDim = Math.max(...lay.obsSizes);
    this.outDim = Math.max(...lay.codecs.map((c) => c.dim));
    this.stepW = this.inDim + this.outDim;
    this.H = cfg.moaGruHidden;
    this.L = Math.min(cfg.moaCharLength, env.spec.episodeLimit);
    this.M = cfg.moaCharTrajectories;
    this.links = new EpisodeLinks(env.numEnvs);
    const H = this.H;
    for (let i = 0; i < n; i++) {
      const targets = [...Array(n).keys()].filter((j) => j !== i);
      const G = targets.length;
      const params = new ParamSet(tf);
      const cell = (name: string, inp: number) => new GRUCell(tf, params, name, { inputSize: inp, hiddenSize: H, groups: G, gates: cfg.moaGruGates }, rng);
      const char: [GRUCell, GRUCell] = [cell('char/0', this.stepW), cell('char/1', H)];
      const mental: [GRUCell, GRUCell] = [cell('mental/0', this.stepW), cell('mental/1', H)];
      const K = cfg.moaNaturalHidden;
      const natural = new Mlp(tf, params, 'natural', [this.inDim + 2 * H, K, K, this.outDim], 'leaky-relu', G, rng);
      const gate = cfg.moaCombine === 'learnedGate' ? new Linear(tf, params, 'gate', this.inDim, 1, G, rng) : null;
      const cache = new ParamSet(tf, false);
      cache.add('eChar', [G, 1, H], new Float32Array(G * H));
      const m = new Float32Array(G * this.outDim);
      targets.forEach((j, k) => m.fill(1, k * this.outDim, k * this.outDim + lay.codecs[j].dim));
      const outMask = tf.tensor3d(m, [G, 1, this.outDim]);
      this.observers.push({ targets, params, opt: new Adam(tf, params, { lr: cfg.moaLr }), cache, char, mental, natural, gate, outMask });
    }
    this.charSeed = deriveSeed(runSeed, CHAR_STREAM);
    this.charData = this.collect();
    const subset = this.drawSubset(rng);
    for (let i = 0; i < n; i++) this.refreshChar(i, subset);
  }

  private collect(): Float32Array {
    const { data, envSteps } = collectCharacter(this.env, this.lay, this.M, this.L, this.charSeed);
    this.charEnvSteps = envSteps;
    return data;
  }

  /** Checkpoint restore: the character data of the saved run's collection seed. */
  restoreCharSeed(seed: number): void {
    if (seed === this.charSeed) return;
    this.charSeed = seed;
    this.charData = this.collect();
  }

  private drawSubset(rng: Rng): Int32Array {
    const k = Math.min(this.cfg.moaCharSubset, this.M);
    const out = new Int32Array(k);
    if (k === this.M) {
      for (let m = 0; m < k; m++) out[m] = m;
      return out;
    }
    for (let m = 0; m < k; m++) out[m] = rng.int(this.M);
    return out;
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** Step features of agent j from a joint row (obs at `o`, actions at `a`) into out[off..]. */
  private stepFeatures(j: number, obs: Float32Array, o: number, act: Float32Array, a: number, out: Float32Array, off: number): void {
    const lay = this.lay;
    out.set(obs.subarray(o + lay.obsOff[j], o + lay.obsOff[j] + lay.obsSizes[j]), off);
    out.set(act.subarray(a + lay.actOff[j], a + lay.actOff[j] + lay.codecs[j].dim), off + this.inDim);
  }

  /** Observer i's character input [G, L*S, stepW] (rows [t][trajectory]) for `subset`. */
  private charInput(i: number, subset: Int32Array): Tensor {
    const { targets } = this.observers[i];
    const { L, stepW } = this;
    const S = subset.length;
    const W = this.lay.obsTotal + this.lay.actTotal;
    const d = this.charData;
    const out = new Float32Array(targets.length * L * S * stepW);
    targets.forEach((j, g) => {
      for (let t = 0; t < L; t++) {
        for (let s = 0; s < S; s++) {
          const row = (subset[s] * L + t) * W;
          this.stepFeatures(j, d, row, d, row + this.lay.obsTotal, out, ((g * L + t) * S + s) * stepW);
        }
      }
    });
    return this.tf.tensor3d(out, [targets.length, L * S, stepW]);
  }

  /**
   * Per agent j, the step features of the windows of rows `slots` ([R, T] slots oldest first,
   * -1 = zero padding): [T, R, stepW] each (null at j = skip).
   */
  private windowFeatures(buf: TransitionBuffer, slots: Int32Array, R: number, T: number, agents: readonly number[]): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>();
    for (const j of agents) out.set(j, new Float32Array(T * R * this.stepW));
    for (let r = 0; r < R; r++) {
      for (let t = 0; t < T; t++) {
        const s = slots[r * T + t];
        if (s < 0) continue;
        const obs = buf.row('obs', s);
        const act = buf.row('act', s);
        for (const j of agents) this.stepFeatures(j, obs, 0, act, 0, out.get(j)!, (t * R + r) * this.stepW);
      }
    }
    return out;
  }

  /** Observer i's input [G, T*R, stepW] from per-agent window features. */
  private stackWindows(i: number, feats: Map<number, Float32Array>, T: number, R: number): Tensor {
    const { targets } = this.observers[i];
    const per = T * R * this.stepW;
    const out = new Float32Array(targets.length * per);
    targets.forEach((j, g) => out.set(feats.get(j)!, g * per));
    return this.tf.tensor3d(out, [targets.length, T * R, this.stepW]);
  }

  /** Observer i's x_t [G, R, inDim]: each pair's target observation, padded. */
  private xInput(i: number, obs: readonly Tensor[]): Tensor {
    const tf = this.tf;
    return tf.tidy(() =>
      tf.stack(
        this.observers[i].targets.map((j) => {
          const w = this.lay.obsSizes[j];
          return w === this.inDim ? obs[j] : tf.pad(obs[j], [[0, 0], [0, this.inDim - w]]);
        }),
      ),
    );
  }

  // ---- networks -----------------------------------------------------------------------------

  /** Top-layer final state [G, R, H] of a 2-layer GRU over e [G, T*R, in] from zero states. */
  private gruFinal(cells: [GRUCell, GRUCell], e: Tensor, T: number, R: number): Tensor {
    const tf = this.tf;
    const G = cells[0].groups;
    return tf.tidy(() => {
      const h1 = cells[0].sequence(e, G, T, R);
      const h2 = cells[1].sequence(h1, G, T, R);
      return T === 1 ? h2 : tf.slice(h2, [0, (T - 1) * R, 0], [G, R, this.H]);
    });
  }

  /** Recompute the cached e_char [G, 1, H] of observer i (no gradient) from its character input (or `subset`'s). */
  private refreshChar(i: number, subset: Int32Array, input?: Tensor): void {
    const tf = this.tf;
    const e = input ?? this.charInput(i, subset);
    const c = tf.tidy(() => tf.mean(this.gruFinal(this.observers[i].char, e, this.L, subset.length), 1, true));
    this.observers[i].cache.get('eChar').assign(c);
    c.dispose();
    if (!input) e.dispose();
  }

  /**
   * Masked natural logits [G, R, outDim] from x [G, R, inDim], e_char [G, 1, H], e_mental [G, R, H].
   * The first layer's input is [x, e_char, e_mental] (spec §3.1); e_char is one row per pair, so
   * its share e_char W_c is computed once per pair and added to every row's x W_x + e_mental W_m
   * instead of multiplying a broadcast [G, R, H] block row by row (a third of that layer's
   * arithmetic, forward and backward, at the paper's H = 64). The same sum in another order:
   * float rounding only (test/algos/f2a2-moa-natural.test.ts checks it against the plain
   * concatenated layer).
   */
  private naturalLogits(i: number, x: Tensor, eChar: Tensor, eMental: Tensor): Tensor {
    const tf = this.tf;
    const ob = this.observers[i];
    return tf.tidy(() => {
      const [l0, ...rest] = ob.natural.layers;
      const G = l0.groups;
      const D = this.inDim;
      const H = this.H;
      const W = l0.weight;
      const out = l0.outDim;
      const wXM = tf.concat([tf.slice(W, [0, 0, 0], [G, D, out]), tf.slice(W, [0, D + H, 0], [G, H, out])], 1);
      const wC = tf.slice(W, [0, D, 0], [G, H, out]);
      const pre = tf.add(groupedLinear(tf, tf.concat([x, eMental], 2), wXM, l0.bias), copyMatMul(tf, eChar, wC));
      let h = applyActivation(tf, pre, ob.natural.activation);
      rest.forEach((layer, k) => {
        h = layer.forward(h, k + 1 < rest.length ? ob.natural.activation : 'linear');
      });
      return tf.add(h, tf.mul(tf.sub(1, ob.outMask), MASKED_LOGIT));
    });
  }

  /** Combined probabilities [G, R, outDim] (padded entries 0). */
  private combine(i: number, x: Tensor, nat: Tensor, imp: Tensor, detachNets: boolean): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      if (this.cfg.moaCombine === 'poe') return tf.softmax(tf.add(nat, imp));
      let pn = tf.softmax(nat);
      let pi = tf.softmax(imp);
      if (detachNets) {
        pn = detach(tf, pn);
        pi = detach(tf, pi);
      }
      if (this.cfg.moaCombine === 'mean') return tf.mul(tf.add(pn, pi), 0.5);
      const g = tf.sigmoid(this.observers[i].gate!.forward(x, 'linear', false));
      return tf.add(tf.mul(g, pn), tf.mul(tf.sub(1, g), pi));
    });
  }

  // ---- used by the RL update ----------------------------------------------------------------

  /**
   * Mental embeddings of observer i at the minibatch rows `index` (replay slots): `now` for the
   * predictions at o_t (window t-T..t-1) and `next` for those at o_{t+1} (window t-T+1..t),
   * [G, K, H] each; both run as one GRU pass over 2K windows. The caller disposes them.
   */
  mentalFor(i: number, buf: TransitionBuffer, index: Int32Array): { now: Tensor; next: Tensor } {
    const tf = this.tf;
    const T = this.cfg.moaMentalLength;
    const K = index.length;
    const chain = new Int32Array(T + 1);
    const slots = new Int32Array(2 * K * T);
    for (let k = 0; k < K; k++) {
      precedingSlots(buf, index[k], T, chain, 0);
      chain[T] = index[k];
      slots.set(chain.subarray(0, T), k * T);
      slots.set(chain.subarray(1, T + 1), (K + k) * T);
    }
    const e = this.stackWindows(i, this.windowFeatures(buf, slots, 2 * K, T, this.observers[i].targets), T, 2 * K);
    const both = this.gruFinal(this.observers[i].mental, e, T, 2 * K);
    e.dispose();
    const G = both.shape[0] as number;
    const now = tf.slice(both, [0, 0, 0], [G, K, this.H]);
    const next = tf.slice(both, [0, K, 0], [G, K, this.H]);
    both.dispose();
    return { now, next };
  }

  /**
   * Agent i's combined model of every other agent at `obs` (per agent [K, obs_j]) with mental
   * embeddings `eMental` [G, K, H]: a one-hot Gumbel-max sample of pi~ (noise [G, K, outDim]
   * from the caller) or pi~ itself. Returns [K, A_j] per agent (null at j = i), as MoaBank.predict.
   */
  predict(i: number, obs: readonly Tensor[], mode: 'sample' | 'probs', noise: Float32Array | null, eMental: Tensor, bank: MoaBank): (Tensor | null)[] {
    const tf = this.tf;
    const ob = this.observers[i];
    const G = ob.targets.length;
    const parts = tf.tidy(() => {
      const x = this.xInput(i, obs);
      const nat = this.naturalLogits(i, x, ob.cache.get('eChar'), eMental);
      const imp = bank.logits(obs, bank.pair(i, ob.targets[0]), G);
      const p = this.combine(i, x, nat, imp, false);
      let dist: Tensor;
      if (mode === 'probs') dist = p;
      else {
        const K = p.shape[1] as number;
        if (!noise || noise.length !== G * K * this.outDim) throw new Error(`NaturalMoa.predict: noise must hold ${G * K * this.outDim} values`);
        const logp = tf.add(tf.log(tf.add(p, 1e-30)), tf.mul(tf.sub(1, ob.outMask), MASKED_LOGIT));
        dist = tf.cast(tf.oneHot(tf.argMax(tf.add(logp, tf.tensor3d(noise, [G, K, this.outDim])), -1), this.outDim), 'float32');
      }
      return tf.unstack(dist).map((d, k) => tf.slice(d, [0, 0], [d.shape[0] as number, this.lay.codecs[ob.targets[k]].dim]));
    });
    const out: (Tensor | null)[] = [];
    let k = 0;
    for (let j = 0; j < this.lay.N; j++) out.push(j === i ? null : parts[k++]);
    return out;
  }

  // ---- training -----------------------------------------------------------------------------

  /**
   * Observer i's loss on one natural minibatch: the natural nets' CE summed over pairs (mean
   * over rows), plus the combined CE with `moaCombinedCE` or a learned gate. Inputs: x
   * [G, R, inDim], mental windows e [G, T*R, stepW], one-hot labels Y [G, R, outDim], impromptu
   * logits [G, R, outDim] (constants; null when no combined CE reads them), character input [G, L*S, stepW].
   */
  loss(i: number, x: Tensor, e: Tensor, Y: Tensor, imp: Tensor | null, charIn: Tensor, S: number): { total: Tensor; natural: Tensor; combined: Tensor | null; correct: Tensor } {
    const tf = this.tf;
    const ob = this.observers[i];
    const T = this.cfg.moaMentalLength;
    const R = x.shape[1] as number;
    const ce = (logp: Tensor) => tf.sum(tf.mean(tf.neg(tf.sum(tf.mul(Y, logp), -1)), -1));
    const eChar = tf.mean(this.gruFinal(ob.char, charIn, this.L, S), 1, true);
    const nat = this.naturalLogits(i, x, eChar, this.gruFinal(ob.mental, e, T, R));
    const natural = ce(tf.logSoftmax(nat));
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(nat, -1), tf.argMax(Y, -1)), 'float32'));
    const withCombined = this.cfg.moaCombinedCE || ob.gate !== null;
    if (!withCombined) return { total: natural, natural, combined: null, correct };
    if (!imp) throw new Error('NaturalMoa.loss: the combined CE needs the impromptu logits');
    const p = this.combine(i, x, nat, imp, !this.cfg.moaCombinedCE);
    const combined = ce(tf.log(tf.add(p, 1e-12)));
    return { total: tf.add(natural, combined), natural, combined, correct };
  }

  /**
   * One MOA step of every observer's natural side (spec §3.2-3.3): `R` positions drawn from the
   * replay with their mental windows, one character subset, one Adam step per observer, then
   * e_char refreshed. Returns the stats to log (per pair means).
   */
  step(buf: TransitionBuffer, bank: MoaBank, rng: Rng): Record<string, number> {
    const tf = this.tf;
    const lay = this.lay;
    const n = lay.N;
    const T = this.cfg.moaMentalLength;
    const R = Math.min(this.cfg.moaNaturalBatch, Math.max(1, buf.count));
    if (buf.count === 0) return {};
    const rows = new Int32Array(R);
    for (let r = 0; r < R; r++) rows[r] = rng.int(buf.count);
    const subset = this.drawSubset(rng);
    const slots = new Int32Array(R * T);
    for (let r = 0; r < R; r++) precedingSlots(buf, rows[r], T, slots, r * T);
    const feats = this.windowFeatures(buf, slots, R, T, [...Array(n).keys()]);
    const obs = new Float32Array(R * lay.obsTotal);
    const act = new Float32Array(R * lay.actTotal);
    for (let r = 0; r < R; r++) {
      obs.set(buf.row('obs', rows[r]), r * lay.obsTotal);
      act.set(buf.row('act', rows[r]), r * lay.actTotal);
    }
    const O = tf.tensor2d(obs, [R, lay.obsTotal]);
    const Aa = tf.tensor2d(act, [R, lay.actTotal]);
    const os = lay.obsSizes.map((s, j) => tf.slice(O, [0, lay.obsOff[j]], [R, s]));
    const as = lay.codecs.map((c, j) => tf.slice(Aa, [0, lay.actOff[j]], [R, c.dim]));
    let natSum = 0;
    let combSum = 0;
    let correct = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      const ob = this.observers[i];
      const G = ob.targets.length;
      const x = this.xInput(i, os);
      const e = this.stackWindows(i, feats, T, R);
      const Y = tf.tidy(() => tf.stack(ob.targets.map((j) => (lay.codecs[j].dim === this.outDim ? as[j] : tf.pad(as[j], [[0, 0], [0, this.outDim - lay.codecs[j].dim]])))));
      // The impromptu logits enter only the combined CE (option or learned gate): without it the
      // [G, 1600] MLP pass would be computed and never read.
      const imp = this.cfg.moaCombinedCE || ob.gate !== null ? bank.logits(os, bank.pair(i, ob.targets[0]), G) : null;
      const charIn = this.charInput(i, subset);
      let parts: number[] = [];
      const { grads } = ob.params.grads(() => {
        const l = this.loss(i, x, e, Y, imp, charIn, subset.length);
        // Read the parts inside the tape's scope; they are scalars.
        parts = [l.natural.dataSync()[0], l.combined ? l.combined.dataSync()[0] : 0, l.correct.dataSync()[0]];
        return l.total as never;
      });
      ob.opt.step(grads);
      for (const g of Object.values(grads)) g.dispose();
      this.refreshChar(i, subset, charIn);
      for (const t of [x, e, Y, imp, charIn]) t?.dispose();
      natSum += parts[0];
      combSum += parts[1];
      correct += parts[2];
      pairs += G;
    }
    for (const t of [O, Aa, ...os, ...as]) t.dispose();
    const out: Record<string, number> = { 'moa/natural_loss': natSum / pairs, 'moa/natural_accuracy': correct / (pairs * R) };
    if (this.cfg.moaCombinedCE || this.cfg.moaCombine === 'learnedGate') out['moa/combined_loss'] = combSum / pairs;
    return out;
  }

  // ---- checkpoints --------------------------------------------------------------------------

  parts(): { params: Record<string, ParamSet>; optimisers: Record<string, Adam> } {
    const params: Record<string, ParamSet> = {};
    const optimisers: Record<string, Adam> = {};
    this.observers.forEach((ob, i) => {
      params[`moaNat/${i}/`] = ob.params;
      params[`moaNatCache/${i}/`] = ob.cache;
      optimisers[`moaNat${i}`] = ob.opt;
    });
    return { params, optimisers };
  }

  /** The masks (parameters, caches and Adam state are disposed through `parts`). */
  disposeConstants(): void {
    for (const ob of this.observers) ob.outMask.dispose();
  }
}
