/**
 * F2A2-ISAC (Li et al. 2023, §6.3, appendix G; shared/specs/f2a2.md §1.10, §2.1): F2A2-SAC at
 * large scale, the learner of the paper's MAgent battle (Fig. 7). Differences from F2A2-SAC
 * (f2a2-sac.ts): the critics are LOCAL, twin Q_j(o^i, .) over the agent's own 21 actions; no
 * MOA (nothing of the others enters); the baseline is the local analogue B(o^i) = sum_b
 * pi(b|o^i) q1(o^i)[b]; and everything is shared ("the parameters in actor and critic for all
 * agents are shared"): w_in is empty, w_sh = {psi, phi1, phi2}, each copy trained on its own
 * agents' transitions and kept together with the others by the primal-dual consensus
 * (algos/consensus/, as F2A2's other instantiations).
 *
 * Networks: actor, Q1, Q2 and their targets are the §1.10 convolutional trunk (nn/conv-trunk.ts:
 * two 3x3 convolutions of 32, Dense 128, Dense 128, 21 outputs; separate networks), each holding
 * all `copies` copies as one grouped tensor (leading copy axis), so every copy acts and updates
 * in one batched pass (spec §1.10's implementation note).
 *
 * One update iteration every `trainEvery` stored agent transitions, once `warmup` are stored:
 * each copy g draws its own minibatch of `batchSize` from its own replay (its agents'
 * transitions), then, per copy, with a = stored action, a^ ~ pi (resampled), rho = min(epsIS,
 * pi(a)/pi0(a)), rhobar = min(epsIS, pi0(a^)/pi(a^)) (pi0 stored at acting time, spec §1.2):
 *   y = r + gamma (1 - d) [min_j Qbar_j(o')[a'] - alpha log pibar(a'|o')], a' ~ pibar ('paper';
 *       'code' puts the entropy term after gamma and the mask, as MAAC's code);
 *   Q1 step: -a1 rho Q1(a) - a1 Q1(a^) + a2 (Q1(a) - y)^2 + a2 rhobar (Q1(a^) - y)^2;
 *   Q2 step: a2 (Q2(a) - y)^2 + a2 rhobar (Q2(a^) - y)^2;
 *   actor step (coefficients from the updated critics): -a1 rho l(a) sg(A) - a1 l(a^) sg(A^)
 *       + a2 rhobar l(a^) sg(d^1^2 + d^2^2), A = Q1(a) - alpha l(a) - B;
 *   "w/o JOINT": TD-only critics, actor -a1 l(a^) sg(A^);
 * then the consensus events of this iteration over the copies' graph, then soft target updates.
 * A copy's loss is the mean over its own minibatch; the grouped loss sums the copies, so each
 * copy's gradient is its own, and clipping is per copy.
 *
 * Paper (§1.10, G) vs choices:
 *   lr 1e-4 (actors and critics), gamma 0.95, batch 128, buffer 5e5, alpha 0.08   paper G
 *   trunk: 2 x conv3x3/32 + Dense 128 x 2, separate actor / critics                 spec DESIGN CHOICE
 *   copies 4 (agent k of the learner agents trains copy k mod copies)              Cairn, see below
 *   tau 0.005 soft targets, target policy                                          F2A2's MPE value (G)
 *   one iteration per 512 stored agent transitions, warm-up 1280                   Cairn (IQL's cadence
 *                                                                                    scaled to 4 copies)
 *   actor clip 0.5 + 1e-3 mean(logits^2), critic clip 10                           R as F2A2-SAC (MAAC's)
 *   alpha1 = alpha2 = 1, epsIS 1, full graph, exchange every iteration, beta 0.5   as F2A2 (spec §1.12, §2)
 * Why `copies` and not one copy per agent: per-agent copies of three such nets are ~1.1M
 * parameters per agent (fc1 alone is 2626 x 128), so 256 agents would hold ~280M parameters,
 * ~4.5 GB with Adam moments, targets, duals and local views, and every update would run 256
 * minibatches through the convolutions. The copies are the consensus nodes; `copies` = the
 * number of learner agents is the spec's literal reading where it fits (12 per side).
 * Replay: one per copy, `bufferSize / copies` agent transitions each, grown by doubling (a
 * battle transition holds two 1217-float observation rows, ~10 KB).
 * Against a frozen opponent (`train.opponent = frozen`) only the learner army is trained; in
 * self-play (both armies learner-controlled) the copies serve both armies, as IQL's shared net.
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import { learnerAgents } from '../envs/spaces';
import type { EnvSpec, VecEnv } from '../envs/types';
import { maskedLogProbs } from '../nn/categorical';
import { ConvTrunk, imagePatchRows, trunkProblems, trunkShape } from '../nn/conv-trunk';
import { gumbelNoise } from '../nn/gumbel';
import { registerOffPolicyGradients } from '../nn/gradients-offpolicy';
import { Adam } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor, Tf, Variable } from '../nn/tf';
import { Rng } from '../rng';
import { CommGraph, type Topology } from './consensus/graph';
import { addGraphStats } from './consensus/graph-stats';
import { gatherStacked, scatterStacked } from './consensus/stacked';
import { PrimalDualConsensus } from './consensus/primal-dual';
import { ExchangeSchedule } from './consensus/schedule';
import { counter, loadLearner, saveLearner } from './core/checkpoint';
import { envProblems } from './core/compat';
import { LockstepRollout } from './core/rollout';
import { softUpdate } from './core/target';
import { TransitionBuffer } from './core/transition-buffer';
import { f2a2Schema } from './f2a2';
import { maacSoftTarget } from './maac';
import type { AlgoEntry, Checkpoint, Policy, PolicyContext, RoundResult, Trainer, TrainContext } from './types';

const F = f2a2Schema;

export const f2a2IsacSchema = {
  copies: { type: 'int', default: 4, min: 1, max: 1024, doc: 'Parameter copies (consensus nodes); learner agent k trains copy k mod copies. The spec reads one per agent: feasible at small armies only (see the header).' },
  lrActor: { type: 'float', default: 1e-4, min: 0, max: 1, doc: 'Adam learning rate of the actor copies (paper G, ISAC: 1e-4).' },
  lrCritic: { type: 'float', default: 1e-4, min: 0, max: 1, doc: 'Adam learning rate of the critic copies (paper G, ISAC: 1e-4).' },
  gamma: { type: 'float', default: 0.95, min: 0, max: 1, doc: 'Discount (paper G, ISAC: 0.95).' },
  temperature: { type: 'float', default: 0.08, min: 0, max: 10, doc: 'SAC entropy temperature alpha (paper G, ISAC: 0.08).' },
  batchSize: { type: 'int', default: 128, min: 1, max: 65536, doc: 'Agent transitions per copy and update iteration (paper G: 128).' },
  bufferSize: { type: 'int', default: 500_000, min: 1, max: 10_000_000, doc: 'Replay capacity in agent transitions over all copies (paper G: 5e5; about 10 KB each on the battle, grown by doubling).' },
  trainEvery: { type: 'int', default: 512, min: 1, max: 10_000_000, doc: 'Stored agent transitions between update iterations (Cairn: copies x batch = each transition drawn about once).' },
  warmup: { type: 'int', default: 1280, min: 1, max: 10_000_000, doc: 'Agent transitions stored before the first update iteration (Cairn: as IQL).' },
  tau: { type: 'float', default: 0.005, min: 0, max: 1, doc: "Soft target rate of actor and critics (F2A2's MPE value; G gives none for ISAC)." },
  filters: { type: 'int', default: 32, min: 1, max: 512, doc: 'Filters of both 3x3 convolutions (spec §1.10: 32).' },
  hiddenDim: { type: 'int', default: 128, min: 1, max: 4096, doc: 'Width of both dense layers after the convolutions (spec §1.10: 128).' },
  baseline: { type: 'enum', default: 'local', values: ['local', 'none'], doc: 'Baseline of the advantage: sum_b pi(b|o) Q1(o)[b] (spec §1.10 DESIGN CHOICE) or none.' },
  // F2A2-ISAC is SAC throughout: no `when` on F2A2's instantiation field, which it does not have.
  maacTargetForm: (({ when: _w, ...rest }) => rest)(F.maacTargetForm),
  gradClip: { type: 'float', default: 0.5, min: 0, doc: "Per-copy global-norm clip of the actor's gradient (0 = none; MAAC's policies: 0.5)." },
  criticGradClip: { type: 'float', default: 10, min: 0, doc: "Per-copy global-norm clip of each critic's gradient (0 = none; MAAC: 10 per agent)." },
  actorLogitReg: { type: 'float', default: 1e-3, min: 0, doc: 'Weight of mean(logits^2) in the actor loss (MAAC: 1e-3).' },
  alpha1: F.alpha1,
  alpha2: F.alpha2,
  epsIS: F.epsIS,
  joint: F.joint,
  topology: F.topology,
  edgeFraction: F.edgeFraction,
  directed: F.directed,
  exchangeMean: F.exchangeMean,
  exchangeStd: F.exchangeStd,
  secondParamIsVariance: F.secondParamIsVariance,
  beta: F.beta,
  consensusEta: F.consensusEta,
  consensusWeights: F.consensusWeights,
  consensusMode: F.consensusMode,
} as const satisfies Schema;

type IsacConfig = Values<typeof f2a2IsacSchema>;

export function f2a2IsacProblems(spec: EnvSpec): string[] {
  const out = envProblems({ actions: 'discrete', uniformAgents: true, controllers: ['learner', 'script', 'frozen'] }, spec);
  const agents = learnerAgents(spec);
  if (agents.length > 0) out.push(...trunkProblems(spec.agents[agents[0]].obsLayout));
  return out;
}

/** Actor and twin critics, each all copies in one grouped trunk. */
class IsacNets {
  readonly actor: ConvTrunk;
  readonly q: ConvTrunk[];
  readonly sets: { actor: ParamSet; q1: ParamSet; q2: ParamSet };
  constructor(tf: Tf, spec: EnvSpec, cfg: IsacConfig, G: number, rng: Rng, trainable: boolean, withCritics = true) {
    const a = spec.agents[learnerAgents(spec)[0]];
    const shape = trunkShape(a.obsLayout, spec.obsSize);
    const mk = (name: string) => {
      const params = new ParamSet(tf, trainable);
      return { params, net: new ConvTrunk(tf, params, name, shape, cfg.filters, cfg.hiddenDim, spec.numActions, G, rng) };
    };
    const actor = mk('actor');
    this.actor = actor.net;
    const q1 = withCritics ? mk('q1') : null;
    const q2 = withCritics ? mk('q2') : null;
    this.q = q1 && q2 ? [q1.net, q2.net] : [];
    this.sets = { actor: actor.params, q1: q1?.params ?? new ParamSet(tf, trainable), q2: q2?.params ?? new ParamSet(tf, trainable) };
  }
  all(): ParamSet[] {
    return [this.sets.actor, this.sets.q1, this.sets.q2];
  }
  copyFrom(o: IsacNets): void {
    this.all().forEach((s, k) => s.copyFrom(o.all()[k]));
  }
  dispose(): void {
    for (const s of this.all()) s.dispose();
  }
}

/** Clip each copy's gradient (rows of the leading copy axis, over all tensors) to global norm `clip`, in place. */
export function clipPerCopy(tf: Tf, grads: Record<string, Tensor>, G: number, clip: number): void {
  if (!(clip > 0)) return;
  const keys = Object.keys(grads);
  const scale = tf.tidy(() => {
    const sq = keys.map((k) => tf.sum(tf.square(tf.reshape(grads[k], [G, -1])), 1));
    const norm = tf.sqrt(tf.addN(sq));
    return tf.minimum(1, tf.div(clip, tf.maximum(norm, 1e-12)));
  });
  for (const k of keys) {
    const g = grads[k];
    grads[k] = tf.tidy(() => tf.reshape(tf.mul(tf.reshape(g, [G, -1]), tf.reshape(scale, [G, 1])), g.shape));
    g.dispose();
  }
  scale.dispose();
}

/**
 * The learner agents' observation rows of `env` grouped by copy, [G, R, O] with R = the most
 * agents of a copy x B (short copies padded with zero rows), and each (copy, agent) row's index.
 */
function copyRows(env: VecEnv, agents: readonly number[], copyOf: Int32Array, G: number): { x: Float32Array; slot: Int32Array; R: number } {
  const { numAgents: N, obsSize: O } = env.spec;
  const B = env.numEnvs;
  const R = Math.ceil(agents.length / G) * B;
  const x = new Float32Array(G * R * O);
  const slot = new Int32Array(B * N).fill(-1);
  const used = new Int32Array(G);
  for (const i of agents) {
    const g = copyOf[i];
    for (let b = 0; b < B; b++) {
      const s = g * R + used[g]++;
      slot[b * N + i] = s;
      x.set(env.obs.subarray((b * N + i) * O, (b * N + i + 1) * O), s * O);
    }
  }
  return { x, slot, R };
}

/** Masked log-probabilities of logits [..., A] with masks [..., A] (1 = legal). */
function logProbs(tf: Tf, logits: Tensor, mask: Tensor): Tensor {
  return maskedLogProbs(tf, logits, mask);
}

/** Inputs of one update iteration, per copy [G, K, ...]. */
export interface IsacBatch {
  readonly G: number;
  readonly K: number;
  readonly x: Tensor; //    [G, K, O]
  readonly act: Tensor; //  [G, K, A] stored one-hot
  readonly aHat: Tensor; // [G, K, A] resampled one-hot
  readonly mask: Tensor; // [G, K, A]
  readonly y: Tensor; //    [G, K]
  readonly rho: Tensor; //  [G, K]
  readonly rhoBar: Tensor; // [G, K]
  /** x's first-convolution patches, shared by every network that reads x (null: reference path). */
  readonly p1: Tensor | null;
  /** Masked log pi(.|x) of the actor as sampled (null: reference path). */
  readonly logp: Tensor | null;
}

const REPLAY = (g: number) => `replay${g}/`;
/** Pixels in a 3x3 convolution's patch. */
const K_PATCH = 9;

export class F2a2IsacTrainer implements Trainer {
  readonly cfg: IsacConfig;
  readonly G: number;
  readonly nets: IsacNets;
  readonly targets: IsacNets;
  private readonly opts: { actor: Adam; q1: Adam; q2: Adam };
  private readonly tf: Tf;
  private readonly spec: EnvSpec;
  private readonly rollout: LockstepRollout;
  readonly buffers: TransitionBuffer[];
  /** Learner agents, and the copy each trains. */
  readonly agents: number[];
  readonly copyOf: Int32Array;
  graph: CommGraph;
  readonly schedule: ExchangeSchedule;
  readonly consensus: PrimalDualConsensus;
  readonly sharedP: number;
  private readonly fire: Uint8Array;
  iters = 0;
  /**
   * The update as first written (each network builds its own first patches in the graph; the
   * actor runs again for the coefficients): same bits, kept for the A/B bench
   * (bench/isac-iteration.ts) and the test that the fast path matches it bit for bit.
   */
  reference = false;
  private sinceUpdate = 0;
  private readonly prevObs: Float32Array;
  private readonly prevAlive: Uint8Array;
  private readonly pi0: Float32Array;
  private readonly stats = new Map<string, { s: number; n: number }>();

  constructor(private readonly ctx: TrainContext) {
    const tf = (this.tf = ctx.tf);
    registerOffPolicyGradients(tf);
    const cfg = (this.cfg = typedValues('algo', f2a2IsacSchema, ctx.config));
    const spec = (this.spec = ctx.env.spec);
    const problems = f2a2IsacProblems(spec);
    if (problems.length > 0) throw new ConfigError('algo.id', `an env with uniform discrete agents and a planes view (${problems.join('; ')})`, 'f2a2-isac');
    this.agents = learnerAgents(spec);
    const L = this.agents.length;
    if (cfg.copies > L) throw new ConfigError('algo.copies', `at most the number of learner agents (${L})`, cfg.copies);
    const G = (this.G = cfg.copies);
    this.copyOf = new Int32Array(spec.numAgents).fill(-1);
    this.agents.forEach((i, k) => (this.copyOf[i] = k % G));
    const { rng } = ctx;
    this.nets = new IsacNets(tf, spec, cfg, G, rng, true);
    // One common draw for every copy (spec §2.2): copy 0's weights everywhere.
    for (const s of this.nets.all()) for (const name of s.names()) {
      const v = s.get(name);
      const t = tf.tidy(() => {
        const rows = tf.reshape(v, [G, -1]);
        return tf.reshape(tf.tile(tf.slice(rows, [0, 0], [1, -1]), [G, 1]), v.shape);
      });
      v.assign(t);
      t.dispose();
    }
    this.targets = new IsacNets(tf, spec, cfg, G, rng, false);
    this.targets.copyFrom(this.nets);
    this.opts = {
      actor: new Adam(tf, this.nets.sets.actor, { lr: cfg.lrActor }),
      q1: new Adam(tf, this.nets.sets.q1, { lr: cfg.lrCritic }),
      q2: new Adam(tf, this.nets.sets.q2, { lr: cfg.lrCritic }),
    };
    const { numAgents: N, obsSize: O, numActions: A } = spec;
    const B = ctx.env.numEnvs;
    const cap = Math.max(1, Math.ceil(cfg.bufferSize / G));
    this.buffers = Array.from({ length: G }, () => new TransitionBuffer(cap, { obs: O, act: 1, rew: 1, next: O, mask: A, nextMask: A, term: 1, pi0: A }));
    this.rollout = new LockstepRollout(ctx.env, ctx.seed);
    this.prevObs = new Float32Array(B * N * O);
    this.prevAlive = new Uint8Array(B * N);
    this.pi0 = new Float32Array(B * N * A);
    this.prevMask = new Float32Array(B * N * A);
    this.graph = new CommGraph(G, { topology: cfg.topology as Topology, edgeFraction: cfg.edgeFraction, directed: cfg.directed }, rng);
    this.schedule = new ExchangeSchedule(G, { mean: cfg.exchangeMean === 0 ? Infinity : cfg.exchangeMean, std: cfg.exchangeStd, secondParamIsVariance: cfg.secondParamIsVariance }, rng);
    this.sharedP = this.nets.all().reduce((s, set) => s + set.size(), 0) / G;
    this.consensus = new PrimalDualConsensus(G, this.sharedP, { beta: cfg.beta, eta: cfg.consensusEta, weights: cfg.consensusWeights, mode: cfg.consensusMode });
    this.consensus.init(this.gatherShared());
    this.fire = new Uint8Array(G);
  }
  private readonly prevMask: Float32Array;

  private stat(k: string, v: number): void {
    const a = this.stats.get(k) ?? { s: 0, n: 0 };
    a.s += v;
    a.n++;
    this.stats.set(k, a);
  }

  // ---- acting -------------------------------------------------------------------------------

  /** Sample every learner agent's action from its copy's policy; pi0 of each row into `this.pi0`. */
  private act(env: VecEnv, actions: Int32Array): void {
    const tf = this.tf;
    const { numAgents: N, obsSize: O, numActions: A } = this.spec;
    const { x, slot, R } = copyRows(env, this.agents, this.copyOf, this.G);
    const y = tf.tidy(() => this.nets.actor.run(tf.tensor3d(x, [this.G, R, O]), false));
    const logits = y.dataSync() as Float32Array;
    y.dispose();
    sampleRows(logits, slot, env, actions, this.ctx.rng, false, this.pi0, N, A);
  }

  async round(): Promise<RoundResult> {
    const env = this.ctx.env;
    const N = this.spec.numAgents;
    const B = env.numEnvs;
    const ro = this.rollout;
    const term = new Float32Array(B * N);
    const valid = new Uint8Array(B * N);
    const act = new Float32Array(B * N);
    const own = new Uint8Array(B * N);
    ro.begin();
    const res = ro.run({
      act: () => {
        this.prevObs.set(env.obs);
        this.prevMask.set(env.actionMask);
        if (env.agentAlive) this.prevAlive.set(env.agentAlive);
        else this.prevAlive.fill(1);
        this.act(env, ro.actions);
      },
      observe: (t) => {
        let stored = 0;
        valid.fill(0);
        for (let b = 0; b < B; b++) {
          const v = ro.valid[t * B + b];
          const ended = env.dones[b] && !env.truncated[b] ? 1 : 0;
          for (const i of this.agents) {
            const r = b * N + i;
            // An agent out of play before the step has no transition; one killed during it
            // ends its own chain (no bootstrap from its zeroed row), as IQL.
            valid[r] = v && this.prevAlive[r] ? 1 : 0;
            term[r] = ended || (env.agentAlive !== undefined && !env.agentAlive[r]) ? 1 : 0;
            act[r] = ro.actions[r];
            stored += valid[r];
          }
        }
        const rows = { obs: this.prevObs, act, rew: env.rewards, next: env.obs, mask: this.prevMask, nextMask: env.actionMask, term, pi0: this.pi0 };
        for (let g = 0; g < this.G; g++) {
          for (let r = 0; r < B * N; r++) own[r] = valid[r] && this.copyOf[r % N] === g ? 1 : 0;
          this.buffers[g].insert(rows, own);
        }
        this.sinceUpdate += stored;
        while (this.sinceUpdate >= this.cfg.trainEvery) {
          this.sinceUpdate -= this.cfg.trainEvery;
          const total = this.buffers.reduce((s, b) => s + b.count, 0);
          if (total < Math.min(this.cfg.warmup, this.cfg.bufferSize) || this.buffers.some((b) => b.count === 0)) continue;
          this.iteration();
        }
      },
    });
    const stats: Record<string, number> = {};
    for (const [k, a] of this.stats) stats[k] = a.s / a.n;
    this.stats.clear();
    stats['consensus/residual'] = PrimalDualConsensus.residual(this.gatherShared(), this.G, this.sharedP);
    stats['consensus/messages'] = this.consensus.messages;
    stats['consensus/scalars'] = this.consensus.scalars;
    stats['consensus/events'] = this.consensus.events;
    stats['consensus/edges'] = this.graph.edgeCount();
    // The copies' graph, drawn in the run view like F2A2's and MA-AC's agent graphs.
    addGraphStats(this.graph, stats);
    stats['charts/update_iters'] = this.iters;
    stats['charts/buffer_size'] = this.buffers.reduce((s, b) => s + b.count, 0);
    return { episodes: res.episodes, envSteps: res.envSteps, stats };
  }

  // ---- the update ---------------------------------------------------------------------------

  /** Gumbel-max one-hot samples of log-probabilities [G, K, A] (no gradient). */
  private sample(logp: Tensor): Tensor {
    const tf = this.tf;
    const [G, K, A] = logp.shape as [number, number, number];
    return tf.tidy(() => tf.cast(tf.oneHot(tf.argMax(tf.add(logp, tf.tensor3d(gumbelNoise(this.ctx.rng, G * K * A), [G, K, A])), -1), A), 'float32'));
  }

  /** One minibatch per copy from its own replay, the resampled actions, ratios and the soft target. */
  prepare(): IsacBatch {
    const tf = this.tf;
    const cfg = this.cfg;
    const { obsSize: O, numActions: A } = this.spec;
    const G = this.G;
    const K = cfg.batchSize;
    const buf = { obs: new Float32Array(G * K * O), next: new Float32Array(G * K * O), act: new Float32Array(G * K * A), mask: new Float32Array(G * K * A), nextMask: new Float32Array(G * K * A), pi0: new Float32Array(G * K * A), rew: new Float32Array(G * K), term: new Float32Array(G * K) };
    for (let g = 0; g < G; g++) {
      const { fields } = this.buffers[g].sample(K, this.ctx.rng);
      buf.obs.set(fields.obs, g * K * O);
      buf.next.set(fields.next, g * K * O);
      buf.mask.set(fields.mask, g * K * A);
      buf.nextMask.set(fields.nextMask, g * K * A);
      buf.pi0.set(fields.pi0, g * K * A);
      buf.rew.set(fields.rew, g * K);
      buf.term.set(fields.term, g * K);
      for (let k = 0; k < K; k++) buf.act[(g * K + k) * A + fields.act[k]] = 1;
    }
    const x = tf.tensor3d(buf.obs, [G, K, O]);
    const act = tf.tensor3d(buf.act, [G, K, A]);
    const mask = tf.tensor3d(buf.mask, [G, K, A]);
    const gather = (q: Tensor, a: Tensor) => tf.sum(tf.mul(q, a), -1);
    // The three target networks read the same next rows, and every network of the iteration
    // the same rows x: their first patches are built once each, on the CPU (conv-trunk.ts).
    const ref = this.reference;
    const shape = this.nets.actor.shape;
    const patchesOf = (rows: Float32Array): Tensor | undefined => (ref ? undefined : tf.tensor3d(imagePatchRows(rows, G * K, shape), [G, K * (shape.w - 2) * (shape.h - 2), K_PATCH * shape.c]));
    const p1 = patchesOf(buf.obs) ?? null;
    const y = tf.tidy(() => {
      const nx = tf.tensor3d(buf.next, [G, K, O]);
      const nm = tf.tensor3d(buf.nextMask, [G, K, A]);
      const pn = patchesOf(buf.next);
      const logp = logProbs(tf, this.targets.actor.run(nx, false, pn, ref), nm);
      const an = this.sample(logp);
      const qn = tf.minimum(gather(this.targets.q[0].run(nx, false, pn, ref), an), gather(this.targets.q[1].run(nx, false, pn, ref), an));
      return maacSoftTarget(tf, tf.tensor2d(buf.rew, [G, K]), tf.tensor2d(buf.term, [G, K]), qn, gather(logp, an), cfg.gamma, cfg.temperature, cfg.maacTargetForm);
    });
    const { aHat, rho, rhoBar, logp } = tf.tidy(() => {
      const logp = logProbs(tf, this.nets.actor.run(x, false, p1 ?? undefined, ref), mask);
      const pi = tf.exp(logp);
      const aHat = this.sample(logp);
      const pi0 = tf.tensor3d(buf.pi0, [G, K, A]);
      const at = (p: Tensor, a: Tensor) => tf.maximum(gather(p, a), 1e-8);
      return { aHat, rho: tf.minimum(tf.div(at(pi, act), at(pi0, act)), cfg.epsIS), rhoBar: tf.minimum(tf.div(at(pi0, aHat), at(pi, aHat)), cfg.epsIS), logp };
    });
    if (ref) logp.dispose();
    return { G, K, x, act, aHat, mask, y, rho, rhoBar, p1, logp: ref ? null : logp };
  }

  disposeBatch(b: IsacBatch): void {
    this.tf.dispose([b.x, b.act, b.aHat, b.mask, b.y, b.rho, b.rhoBar, ...(b.p1 ? [b.p1] : []), ...(b.logp ? [b.logp] : [])]);
  }

  /** A network of this trainer on the batch's rows (its cached first patches unless reference). */
  private runOn(net: ConvTrunk, b: IsacBatch, train: boolean): Tensor {
    return net.run(b.x, train, b.p1 ?? undefined, this.reference);
  }

  /** Summed over copies of each copy's mean: critic c's surrogate (Q1 with the a1 terms). */
  criticLoss(b: IsacBatch, c: 0 | 1): Tensor {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2, joint } = this.cfg;
    return tf.tidy(() => {
      const q = this.runOn(this.nets.q[c], b, true);
      const qa = tf.sum(tf.mul(q, b.act), -1);
      let l = tf.mul(tf.square(tf.sub(qa, b.y)), a2);
      if (joint) {
        const qh = tf.sum(tf.mul(q, b.aHat), -1);
        l = tf.add(l, tf.mul(tf.mul(tf.square(tf.sub(qh, b.y)), b.rhoBar), a2));
        if (c === 0) l = tf.sub(l, tf.mul(tf.add(tf.mul(b.rho, qa), qh), a1));
      }
      return tf.sum(tf.mean(l, 1));
    });
  }

  /** [cBuf, cHat] per sample from the current critics (see the header), [G, K] each. */
  actorCoefs(b: IsacBatch): [Tensor, Tensor] {
    const tf = this.tf;
    const { alpha1: a1, alpha2: a2, joint, temperature: alpha } = this.cfg;
    return tf.tidy(() => {
      // The actor has not stepped since prepare(): its log-probabilities there are these.
      const logp = b.logp ?? logProbs(tf, this.runOn(this.nets.actor, b, false), b.mask);
      const q1 = this.runOn(this.nets.q[0], b, false);
      const base = this.cfg.baseline === 'local' ? tf.sum(tf.mul(q1, tf.exp(logp)), -1) : tf.zeros([b.G, b.K]);
      const adv = (a: Tensor) => tf.sub(tf.sub(tf.sum(tf.mul(q1, a), -1), tf.mul(tf.sum(tf.mul(logp, a), -1), alpha)), base);
      let cHat = tf.mul(adv(b.aHat), -a1);
      if (!joint) return [tf.zerosLike(cHat), cHat] as [Tensor, Tensor];
      const q2 = this.runOn(this.nets.q[1], b, false);
      const sq = tf.add(tf.square(tf.sub(tf.sum(tf.mul(q1, b.aHat), -1), b.y)), tf.square(tf.sub(tf.sum(tf.mul(q2, b.aHat), -1), b.y)));
      cHat = tf.add(cHat, tf.mul(tf.mul(sq, b.rhoBar), a2));
      return [tf.mul(tf.mul(adv(b.act), b.rho), -a1), cHat] as [Tensor, Tensor];
    });
  }

  actorLoss(b: IsacBatch, coefs: readonly [Tensor, Tensor]): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const logits = this.runOn(this.nets.actor, b, true);
      const logp = logProbs(tf, logits, b.mask);
      const l = tf.add(tf.mul(tf.sum(tf.mul(logp, b.act), -1), coefs[0]), tf.mul(tf.sum(tf.mul(logp, b.aHat), -1), coefs[1]));
      const reg = tf.mul(tf.mean(tf.square(logits), [1, 2]), this.cfg.actorLogitReg);
      return tf.sum(tf.add(tf.mean(l, 1), reg));
    });
  }

  private step(set: ParamSet, opt: Adam, clip: number, loss: () => Tensor): number {
    const { value, grads } = set.grads(loss as never);
    clipPerCopy(this.tf, grads, this.G, clip);
    opt.step(grads);
    this.tf.dispose(Object.values(grads));
    return value / this.G;
  }

  /** One update iteration: critic steps, actor step, consensus, soft targets. */
  iteration(): void {
    const tf = this.tf;
    const cfg = this.cfg;
    const b = this.prepare();
    // Q1's values before its step: a separate inference pass, because the training forward's
    // bias is added outside the fused matmul while the tape records (last-bit differences).
    const diag = tf.tidy(() => {
      const q1 = this.runOn(this.nets.q[0], b, false);
      const d = tf.sub(tf.sum(tf.mul(q1, b.act), -1), b.y);
      const dh = tf.sub(tf.sum(tf.mul(q1, b.aHat), -1), b.y);
      return tf.stack([tf.mean(d), tf.mean(tf.sub(cfg.alpha1, tf.mul(tf.mul(dh, b.rhoBar), 2 * cfg.alpha2))), tf.mean(b.rho), tf.mean(b.rhoBar)]);
    });
    const dv = diag.dataSync();
    diag.dispose();
    ['f2a2/delta', 'f2a2/coef', 'f2a2/rho', 'f2a2/rhobar'].forEach((k, m) => this.stat(k, dv[m]));
    this.stat('losses/critic', this.step(this.nets.sets.q1, this.opts.q1, cfg.criticGradClip, () => this.criticLoss(b, 0)));
    this.stat('losses/critic2', this.step(this.nets.sets.q2, this.opts.q2, cfg.criticGradClip, () => this.criticLoss(b, 1)));
    const coefs = this.actorCoefs(b);
    this.stat('losses/actor', this.step(this.nets.sets.actor, this.opts.actor, cfg.gradClip, () => this.actorLoss(b, coefs)));
    tf.dispose(coefs);
    this.disposeBatch(b);
    this.consensusStep();
    this.nets.all().forEach((s, k) => softUpdate(tf, this.targets.all()[k], s, cfg.tau));
    this.iters++;
  }

  // ---- consensus over the copies ------------------------------------------------------------

  /** Every copy's parameters (actor, Q1, Q2), flattened: [G, P]. */
  /** The copies' shared parameters, in the consensus layout (every network of every copy). */
  private sharedVars(): Variable[] {
    return this.nets.all().flatMap((set) => set.names().map((name) => set.get(name)));
  }

  gatherShared(): Float32Array {
    return gatherStacked(this.sharedVars(), this.G, this.sharedP);
  }

  scatterShared(copies: Float32Array): void {
    scatterStacked(this.tf, this.sharedVars(), copies, this.G, this.sharedP);
  }

  consensusStep(): void {
    const rng = this.ctx.rng;
    this.graph.redraw(rng);
    const firing = this.schedule.tick(rng, this.fire);
    if (firing === 0 || this.graph.edgeCount() === 0) return;
    const copies = this.gatherShared();
    if (this.consensus.step(copies, this.graph, this.fire) > 0) this.scatterShared(copies);
  }

  // ---- checkpoints --------------------------------------------------------------------------

  private parts() {
    const n = this.nets.sets;
    const t = this.targets.sets;
    return {
      algo: 'f2a2-isac',
      version: 1,
      ctx: this.ctx,
      rollout: this.rollout,
      params: { 'actor/': n.actor, 'q1/': n.q1, 'q2/': n.q2, 'actorTarget/': t.actor, 'q1Target/': t.q1, 'q2Target/': t.q2 },
      optimisers: { actor: this.opts.actor, q1: this.opts.q1, q2: this.opts.q2 },
    };
  }

  async save(): Promise<Checkpoint> {
    const tensors: Checkpoint['tensors'] = {};
    const replay = this.buffers.map((b, g) => {
      const rec = b.toRecords(REPLAY(g));
      Object.assign(tensors, rec.tensors);
      return rec.meta;
    });
    const P = this.sharedP;
    tensors['consensus/lambda'] = { shape: [this.G, P], data: Float32Array.from(this.consensus.lambda) };
    tensors['consensus/local'] = { shape: [this.G, P], data: Float32Array.from(this.consensus.local) };
    const extra = {
      replay,
      iters: this.iters,
      sinceUpdate: this.sinceUpdate,
      ring: Array.from(this.graph.ring),
      countdown: this.schedule.getState(),
      consensusCounters: { messages: this.consensus.messages, scalars: this.consensus.scalars, events: this.consensus.events },
    };
    return saveLearner(this.parts(), extra, tensors);
  }

  load(ckpt: Checkpoint): void {
    const e = loadLearner(ckpt, this.parts());
    const replay = e.replay as { next: number; size: number }[];
    if (!Array.isArray(replay) || replay.length !== this.G) throw new Error(`f2a2-isac: checkpoint has ${Array.isArray(replay) ? replay.length : 'no'} replays for ${this.G} copies`);
    this.buffers.forEach((b, g) => b.fromRecords(ckpt.tensors, replay[g], REPLAY(g)));
    this.iters = counter(e, 'iters', 'f2a2-isac');
    this.sinceUpdate = counter(e, 'sinceUpdate', 'f2a2-isac');
    const arr = (k: string, n: number): number[] => {
      const v = e[k];
      if (!Array.isArray(v) || v.length !== n) throw new Error(`f2a2-isac: checkpoint field "${k}" is missing or has the wrong length`);
      return v.map(Number);
    };
    this.graph = new CommGraph(this.G, this.graph.config, new Rng(0), arr('ring', this.G));
    this.schedule.setState(arr('countdown', this.G));
    const cc = (e.consensusCounters ?? {}) as Record<string, unknown>;
    this.consensus.messages = counter(cc, 'messages', 'f2a2-isac');
    this.consensus.scalars = counter(cc, 'scalars', 'f2a2-isac');
    this.consensus.events = counter(cc, 'events', 'f2a2-isac');
    for (const k of ['lambda', 'local'] as const) {
      const t = ckpt.tensors[`consensus/${k}`];
      if (!t || t.data.length !== this.consensus[k].length) throw new Error(`f2a2-isac: checkpoint tensor "consensus/${k}" is missing or has the wrong size`);
      this.consensus[k].set(t.data);
    }
  }

  dispose(): void {
    this.nets.dispose();
    this.targets.dispose();
    for (const o of Object.values(this.opts)) o.dispose();
  }
}

/**
 * Draw (or, greedy, take the argmax of) each learner row's action from its logits row
 * (`slot` = row index in `logits`, -1 = not a learner row), over legal actions only; with
 * `pi0`, store each row's behaviour distribution.
 */
function sampleRows(logits: Float32Array, slot: Int32Array, env: VecEnv, actions: Int32Array, rng: Rng, greedy: boolean, pi0: Float32Array | null, N: number, A: number): void {
  const B = env.numEnvs;
  const p = new Float64Array(A);
  for (let r = 0; r < B * N; r++) {
    const s = slot[r];
    if (s < 0) continue;
    if (env.finished[Math.floor(r / N)]) {
      actions[r] = 0;
      continue;
    }
    let max = -Infinity;
    let best = 0;
    for (let a = 0; a < A; a++) {
      if (env.actionMask[r * A + a] && logits[s * A + a] > max) {
        max = logits[s * A + a];
        best = a;
      }
    }
    let sum = 0;
    for (let a = 0; a < A; a++) sum += p[a] = env.actionMask[r * A + a] ? Math.exp(logits[s * A + a] - max) : 0;
    if (pi0) for (let a = 0; a < A; a++) pi0[r * A + a] = p[a] / sum;
    if (greedy) {
      actions[r] = best;
      continue;
    }
    let u = rng.float() * sum;
    let pick = best;
    for (let a = 0; a < A; a++) {
      if (p[a] === 0) continue;
      pick = a;
      if ((u -= p[a]) < 0) break;
    }
    actions[r] = pick;
  }
}

/** Acting from a checkpoint: each learner agent samples from (greedy: the argmax of) its copy's actor. */
export class F2a2IsacPolicy implements Policy {
  private readonly nets: IsacNets;
  private readonly agents: number[];
  private readonly G: number;
  private readonly copyOf: Int32Array;
  constructor(private readonly ctx: PolicyContext) {
    const cfg = typedValues('algo', f2a2IsacSchema, ctx.config);
    this.agents = learnerAgents(ctx.spec);
    this.G = Math.min(cfg.copies, Math.max(1, this.agents.length));
    this.nets = new IsacNets(ctx.tf, ctx.spec, cfg, this.G, ctx.rng, false, false);
    if (ctx.checkpoint) this.nets.sets.actor.loadRecords(ctx.checkpoint.tensors, 'actor/');
    this.copyOf = new Int32Array(ctx.spec.numAgents).fill(-1);
    this.agents.forEach((i, k) => (this.copyOf[i] = k % this.G));
  }
  resetCopy(): void {}
  act(env: VecEnv, actions: Int32Array, greedy: boolean): void {
    const tf = this.ctx.tf;
    const { numAgents: N, obsSize: O, numActions: A } = env.spec;
    const { x, slot, R } = copyRows(env, this.agents, this.copyOf, this.G);
    const y = tf.tidy(() => this.nets.actor.run(tf.tensor3d(x, [this.G, R, O]), false));
    const logits = y.dataSync() as Float32Array;
    y.dispose();
    sampleRows(logits, slot, env, actions, this.ctx.rng, greedy, null, N, A);
  }
  dispose(): void {
    this.nets.dispose();
  }
}

export const f2a2IsacEntry: AlgoEntry = {
  id: 'f2a2-isac',
  title: 'F2A2-ISAC: large-scale F2A2-SAC, local twin critics, all parameters shared by consensus over copies (Li et al. 2023 §6.3; the battle)',
  schema: f2a2IsacSchema,
  accepts: f2a2IsacProblems,
  createTrainer: (ctx) => new F2a2IsacTrainer(ctx),
  createPolicy: (ctx) => new F2a2IsacPolicy(ctx),
  diagnostics: [
    { prefix: 'consensus', title: 'Consensus and communication', doc: 'Disagreement of the parameter copies, consensus events, messages and scalars sent (spec §2.7).' },
    { prefix: 'f2a2', title: 'Joint objective', doc: 'Coefficients of the joint actor-critic objective and the importance ratios.' },
  ],
};
