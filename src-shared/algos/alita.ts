/**
 * ALITA (Influence-based reinforcement learning for intrinsically-motivated agents, anonymous
 * ICLR 2022 submission, arXiv 2108.12581; shared/specs/alita.md): MADDPG (maddpg-trainer.ts)
 * where an influencer agent k also minimises lambda F, its influence on its teammates' values
 * (eq. 3-4, 7, 9), earns a novelty bonus lambda_pi psi from an autoencoder on its own (o, a)
 * (eq. 10), and its influencees pay exp(-omega psi) ||pi_i(o_i) - a_i||^2 (eq. 11).
 *
 * Paper text (default here) vs the released code (AmmarFayad/Influence-based-..., e8f502ac;
 * single-agent Gym only, spec §4) where a multi-agent port can follow it:
 *
 *   option            paper (default)                        released code
 *   influenceTarget   eq7: z_i = max_u Q_i(x', u)            code: a TD target r + g Q'(s', mu(s'))
 *   psiForm           sq: ||phi(v) - v||^2                   norm: ||phi(v) - v||
 *   penaltyForm       paper: exp(-omega psi) ||pi - a||^2    code: omega minmax(psi) ||pi - a||
 *   (the code's per-call fresh Adam for the auxiliary critic, alternate whole episodes per agent
 *   and 15 greedy AE roll-outs are not ported: they belong to its single-agent pi/mu setting.)
 *
 * Cairn's answers to the spec's open questions (§12) and its other choices:
 * - influencer: one team agent drawn from the run seed (its own stream) and fixed for the run
 *   (`variant: 'symmetric'`: every team agent; `influencerTeam`: which team, default the learned
 *   team with the most agents, so simple_adversary's good agents). Agents outside that team
 *   (the adversary) train as plain MADDPG/DDPG (per-team critics: `teamCritics`).
 * - F's estimator: per influencee a clone of its critic, copied (and its Adam state zeroed) at
 *   the start of every round, i.e. of every copy's episode, and stepped `cloneUpdatesPerStep`
 *   times per lock-step step (4, the paper's "4 times per step"; with B copies that is 4 per B
 *   env transitions, `cloneUpdatesPerStep` raises it), each on a fresh D_t around the current
 *   (o_k, a_k) of one copy (copies taken in turn). `influenceEstimator: 'single'` is eq. 6's
 *   persistent Q^cen with one output per influencee.
 * - D_t: 'knn' (default), 'exact' (grids) or 'uniform' (alita-dt.ts).
 * - the max over joint actions: exact enumeration up to `maxJointEnum` (128) joint actions,
 *   coordinate ascent (`ascentRounds`, from the greedy joint action) beyond (alita-joint-max.ts);
 *   candidates are one-hots; non-team agents are held at their current Gumbel sample. The
 *   critic is the online Q_i (`influenceCritic: 'target'` for the target).
 * - F enters the influencer's actor loss pathwise through the clone (z held constant), on the
 *   first `influenceBatch` rows of its MADDPG minibatch (0 = all); the other agents' slots hold
 *   their current policies' Gumbel samples (`piOthers: 'softmax'`: their probabilities).
 *   `influenceGradient: 'score-function'` is Theorem 1 instead (spec §2.6; alita-influence.ts).
 * - F under the other two targets (spec §2.5, "log F under the other two targets as
 *   diagnostics"): `influence/F_eq7`, `influence/F_eq4`, `influence/F_code` (and _<k> with
 *   several influencers), on the first `influenceDiagnostics` (64) of F's rows with the
 *   estimator values the gradient used; the configured target's z is reused, so two targets
 *   cost extra passes: one joint-action max (rows x joint actions critic rows per influencee,
 *   as for F itself, e.g. 64 x 125 on N = 3 spread) and one target-actor + target-critic pass
 *   with the training reward. Their Gumbel samples come from their own Rng stream and their
 *   reward evaluations log nothing, so a run with them is bit-identical to one without (the
 *   golden test in test/algos/alita.test.ts). 0 turns them off.
 * - rewards at update time (spec §3.4): the influencer's critic sees r + lambda_pi psi, the
 *   influencees' r minus the eq. 11 penalty (pi_i = softmax of its current logits, or a fresh
 *   sample with `penaltyPolicy: 'sample'`), averaged over influencers; clones regress on the same
 *   training reward (`influenceReward: 'extrinsic'`: the env's).
 * - autoencoder (alita-novelty.ts): the released code's layout and training, after every round
 *   for one shuffled epoch over the transitions of the last `aeWindowRounds` (3) rounds.
 * - ablations (`variant`): no-f (lambda = 0, no clones), no-im (no bonus, no penalty; the
 *   influencees keep their centralised critics), symmetric (every team agent an influencer with
 *   its own autoencoder and clones; each agent's penalty averaged over the others).
 * - hyperparameters per task (Table 5-6; lambda = the tables' beta, INFERRED): MPE lambda 0.1,
 *   lambda_pi 0.01, omega 0.01 (defaults); Push-Box 0.15/0.1/0.1, Secret Room 0.1/0.1/0.1
 *   (presets).
 * - logged per round (suffix _<agent index>): `influence/F_<k>` per influencer (and the pooled
 *   `influence/F`), `im/psi_<k>` and `im/bonus_<k>` (lambda_pi psi) per influencer,
 *   `im/penalty_<i>` per influencee, `im/intrinsic_<j>` (bonus - penalty) per team agent, all
 *   means over the round's update minibatches; `influence/influencer` is the (first) influencer.
 * - replays (src-shared/replay-annotations.ts): the influencer(s) marked, and a per-step series
 *   `intrinsic` (bonus - penalty per agent, 0 outside the team) computed after the round's
 *   updates and autoencoder epoch on that episode's stored transitions, with pi_i's
 *   probabilities (never a sample: recording must not move the Rng); 'code''s min-max of psi
 *   is over the episode's steps.
 * Not built: the continuous-action max over joint actions (spec §2.5: random candidates plus
 *   projected gradient ascent). ALITA runs on no Cairn task with continuous actions: the MPE
 *   tasks use the soft (Gumbel-softmax) action interface, whose max is over one-hot candidates,
 *   and the grids are discrete; the spec puts continuous actions out of scope (§1.2, §2.5), and
 *   `boxPolicy: 'tanh'` is refused for the influence team.
 */
import { ConfigError, typedValues, type Schema } from '../config/schema';
import type { EnvSpec, Replay } from '../envs/types';
import { annotateReplay } from '../replay-annotations';
import { DenseNet } from '../nn/dense-net';
import { Adam, type Optimizer } from '../nn/optim';
import { ParamSet } from '../nn/params';
import type { Tensor } from '../nn/tf';
import { Rng } from '../rng';
import { learnerAgents } from '../envs/spaces';
import { DtIndex, pairKey, retrieveDt, type DtSource } from './alita-dt';
import { ascentJointMax, exactJointMax, jointCount, type Slot } from './alita-joint-max';
import { scoreFunctionSurrogate, TARGETS, type InfluenceTarget } from './alita-influence';
import { autoencoderEpoch, makeAutoencoder, noveltyPsi, type TrainedNet } from './alita-novelty';
import { actionTensor, MASKED_LOGIT } from './core/action-codec';
import { ddpgFamilySchema, ddpgProblems, greedyAction, MaddpgPolicy, MaddpgTrainer, type Batch, type DdpgVariant } from './maddpg-trainer';
import type { AlgoEntry, Checkpoint, RoundResult, TrainContext } from './types';

/** The influencer's mark in replays (the viewer draws what the learner declares). */
const INFLUENCER_COLOR = '#d9480f';

/** Stream tag of the influencer draw (ASCII "infl"). */
const INFLUENCER_STREAM = 0x696e666c;

/** Stream tag of the F diagnostics' samples (ASCII "fdia"): logging never moves the run's Rng. */
const DIAGNOSTICS_STREAM = 0x66646961;

export const alitaSchema = {
  ...ddpgFamilySchema,
  boxPolicy: { ...ddpgFamilySchema.boxPolicy, default: 'gumbel-softmax' },
  variant: { type: 'enum', default: 'alita', values: ['alita', 'no-f', 'no-im', 'symmetric'], doc: 'ALITA, or an ablation of §4.3: No F (lambda = 0), No IM (no bonus, no penalty), Symmetric (every agent an influencer).' },
  influencerTeam: { type: 'int', default: -1, min: -1, max: 64, doc: "Team (index in the env's team order) whose agent influences its teammates; -1 = the learned team with the most agents." },
  lambda: { type: 'float', default: 0.1, min: 0, doc: "Weight of F in the influencer's actor loss (appendix D: 0.1; Tables 5-6 beta)." },
  lambdaPi: { type: 'float', default: 0.01, min: 0, doc: "Weight of the influencer's novelty bonus psi (MPE 0.01; grids 0.1)." },
  omega: { type: 'float', default: 0.01, min: 0, doc: "Influencees' penalty temperature omega in exp(-omega psi) (MPE 0.01; grids 0.1)." },
  influenceEstimator: { type: 'enum', default: 'clones', values: ['clones', 'single'], doc: 'Cloned critics reset every episode (appendix D, default) or one persistent centralised network Q^cen (eq. 6).' },
  cloneUpdatesPerStep: { type: 'int', default: 4, min: 0, max: 256, doc: 'Estimator Adam steps per lock-step step (appendix D: 4 per step).' },
  cloneUpdateEvery: { type: 'int', default: 1, min: 1, max: 100_000, doc: 'Lock-step steps between estimator updates (1: every step; the spec\'s fast preset 25).' },
  dtMode: { type: 'enum', default: 'knn', values: ['knn', 'exact', 'uniform'], doc: "How D_t is drawn: nearest influencer observations with the same action, exact (o, a) matches (grids), or uniform (ablation)." },
  dtBatch: { type: 'int', default: 128, min: 1, max: 100_000, doc: 'Rows of D_t per estimator step.' },
  dtPool: { type: 'int', default: 8192, min: 1, max: 10_000_000, doc: "Random candidate rows searched by 'knn'." },
  dtMinExact: { type: 'int', default: 16, min: 1, max: 100_000, doc: "'exact' falls back to 'knn' below this many matches." },
  influenceTarget: { type: 'enum', default: 'eq7', values: ['eq7', 'eq4', 'code'], doc: "z_i: max_u Q_i(x', u) (eq. 7), max_u Q_i(x, u) (eq. 4), or the TD target (released code)." },
  influenceCritic: { type: 'enum', default: 'online', values: ['online', 'target'], doc: "Which Q_i the max in z uses." },
  influenceGradient: { type: 'enum', default: 'pathwise', values: ['pathwise', 'score-function'], doc: "How F's gradient reaches the influencer's actor: back-propagated through the estimator into its Gumbel sample (released code), or Theorem 1's score-function estimator (high variance; for comparison)." },
  influenceDiagnostics: { type: 'int', default: 64, min: 0, max: 1_000_000, doc: "Rows (the first of F's rows) on which F is also logged under all three targets, influence/F_eq7, F_eq4, F_code (spec §2.5); extra forward passes only, drawn from their own Rng stream. 0 = off." },
  maxJointEnum: { type: 'int', default: 128, min: 1, max: 1_000_000, doc: 'Largest number of team joint actions enumerated exactly; beyond it, coordinate ascent.' },
  ascentRounds: { type: 'int', default: 2, min: 1, max: 100, doc: 'Coordinate-ascent sweeps over the team agents.' },
  influenceBatch: { type: 'int', default: 0, min: 0, max: 1_000_000, doc: "Rows of the actor minibatch on which F is evaluated (0 = all; the max over joint actions costs rows x joint actions critic passes)." },
  influenceReward: { type: 'enum', default: 'training', values: ['training', 'extrinsic'], doc: "Reward in the estimators' targets: the influencees' training reward (with the penalty) or the env's." },
  piOthers: { type: 'enum', default: 'sample', values: ['sample', 'softmax'], doc: "Other agents' slots in pi(x) for F: a Gumbel sample or the softmax of their logits." },
  psiForm: { type: 'enum', default: 'sq', values: ['sq', 'norm'], doc: 'Novelty psi = squared reconstruction error (eq. 10) or its norm (released code).' },
  penaltyForm: { type: 'enum', default: 'paper', values: ['paper', 'code'], doc: "Influencees' penalty: exp(-omega psi) ||pi - a||^2 (eq. 11) or omega minmax(psi) ||pi - a|| (released code)." },
  penaltyPolicy: { type: 'enum', default: 'softmax', values: ['softmax', 'sample'], doc: "pi_i(o_i) in the penalty: the current policy's probabilities or a fresh Gumbel sample." },
  aeOutput: { type: 'enum', default: 'tanh', values: ['tanh', 'linear'], doc: 'Autoencoder output activation (released code: tanh).' },
  aeLr: { type: 'float', default: 3e-3, min: 0, max: 1, doc: 'Autoencoder Adam learning rate (released code: 3e-3).' },
  aeWeightDecay: { type: 'float', default: 1e-3, min: 0, doc: 'L2 weight decay added to the autoencoder gradient (released code: 1e-3).' },
  aeBatch: { type: 'int', default: 64, min: 1, max: 100_000, doc: 'Autoencoder minibatch.' },
  aeWindowRounds: { type: 'int', default: 3, min: 1, max: 1000, doc: 'The autoencoder trains after each round on the transitions of this many latest rounds (one epoch).' },
} as const satisfies Schema;

type AlitaConfig = ReturnType<typeof parseAlita>;
function parseAlita(config: Record<string, unknown>) {
  return typedValues('algo', alitaSchema, config);
}

/** The learned team ALITA's influence acts in (index), or null. */
export function influencerTeam(spec: EnvSpec, requested: number): number | null {
  if (requested >= 0) return requested < spec.teams.length && spec.teams[requested].controller === 'learner' && spec.teams[requested].agents.length >= 2 ? requested : null;
  let best: number | null = null;
  spec.teams.forEach((t, i) => {
    if (t.controller === 'learner' && t.agents.length >= 2 && (best === null || t.agents.length > spec.teams[best].agents.length)) best = i;
  });
  return best;
}

export function alitaProblems(spec: EnvSpec): string[] {
  const out = ddpgProblems(spec);
  const ti = influencerTeam(spec, -1);
  if (ti === null) out.push('no learned team has two or more agents (ALITA needs an influencer and influencees)');
  for (const i of ti === null ? [] : spec.teams[ti].agents) {
    const a = spec.agents[i].action;
    if (a.kind === 'box' && a.low.some((l, k) => l > 0 || a.high[k] < 1)) out.push(`agent ${i} acts in a box that does not contain [0, 1] (ALITA's joint-action max needs one-hot or soft-vector actions)`);
  }
  return out;
}

export class AlitaTrainer extends MaddpgTrainer {
  private readonly acfg: AlitaConfig;
  readonly team: readonly number[];
  influencers: number[];
  private ae = new Map<number, TrainedNet>();
  /** clones.get(k)[i]: influencer k's clone of critic i (clones), or Q^cen at index -1 (single). */
  private est = new Map<number, Map<number, TrainedNet>>();
  private readonly dtIndex = new Map<number, DtIndex>();
  private readonly roundSteps: number[] = [];
  private inMainUpdate = false;
  private extrinsicOnly = false;
  /** The F diagnostics' own stream, and the Rng the intrinsic terms' samples draw from (the run's, or that one while diagnosing). */
  private readonly diagRng: Rng;
  private drawRng: Rng;
  /** [B, episode limit] replay slot of each copy's step this round (-1: none), for the replay's terms. */
  private readonly stepSlots: Int32Array;

  constructor(ctx: TrainContext) {
    super(ctx, ALITA_VARIANT);
    this.acfg = parseAlita(ctx.config);
    const ti = influencerTeam(this.spec, this.acfg.influencerTeam);
    if (ti === null) throw new ConfigError('algo.influencerTeam', 'a learned team with two or more agents', this.acfg.influencerTeam);
    this.team = this.spec.teams[ti].agents;
    for (const i of this.team) {
      if (this.lay.codecs[i].kind !== 'gumbel') throw new ConfigError('algo.boxPolicy', "'gumbel-softmax' (ALITA's max over joint actions needs one-hot candidate actions)", this.cfg.boxPolicy);
    }
    if (learnerAgents(this.spec).length !== this.N) throw new ConfigError('algo.id', 'every agent learned');
    const draw = new Rng(ctx.seed, INFLUENCER_STREAM);
    this.diagRng = new Rng(ctx.seed, DIAGNOSTICS_STREAM);
    this.drawRng = ctx.rng;
    this.influencers = this.acfg.variant === 'symmetric' ? [...this.team] : [this.team[draw.int(this.team.length)]];
    this.stepSlots = new Int32Array(this.B * this.rollout.maxSteps).fill(-1);
    this.buildParts();
  }

  influencees(k: number): number[] {
    return this.team.filter((i) => i !== k);
  }

  private usesF(): boolean {
    return this.acfg.variant !== 'no-f' && this.acfg.lambda > 0;
  }
  private usesIM(): boolean {
    return this.acfg.variant !== 'no-im';
  }

  private buildParts(): void {
    const { tf } = this;
    const rng = this.ctx.rng;
    const c = this.acfg;
    for (const k of this.influencers) {
      this.ae.set(k, makeAutoencoder(tf, this.lay.obsSizes[k] + this.lay.codecs[k].dim, rng, c));
      const m = new Map<number, TrainedNet>();
      if (c.influenceEstimator === 'clones') {
        for (const i of this.influencees(k)) {
          const { params: p, net: n } = this.buildCritic(i, rng, true);
          p.copyFrom(this.critics[i].params);
          m.set(i, { params: p, net: n, opt: new Adam(tf, p, { lr: this.cfg.lrCritic }) });
        }
      } else {
        const p = new ParamSet(tf);
        const n = new DenseNet(tf, p, 'net', [this.lay.obsTotal + this.lay.actTotal, this.cfg.hiddenDim, this.cfg.hiddenDim, this.influencees(k).length], rng, { layerNorm: this.cfg.layerNorm });
        m.set(-1, { params: p, net: n, opt: new Adam(tf, p, { lr: this.cfg.lrCritic }) });
      }
      this.est.set(k, m);
      if (c.dtMode === 'exact') this.dtIndex.set(k, new DtIndex());
    }
  }

  private disposeParts(): void {
    for (const n of this.ae.values()) {
      n.params.dispose();
      n.opt.dispose();
    }
    for (const m of this.est.values()) {
      for (const n of m.values()) {
        n.params.dispose();
        n.opt.dispose();
      }
    }
    this.ae = new Map();
    this.est = new Map();
    this.dtIndex.clear();
  }

  // ---- intrinsic motivation ------------------------------------------------------------------

  /** psi_k(o_k, a_k) [K, 1] for batch rows (no gradient). */
  psi(k: number, obs: Tensor, act: Tensor): Tensor {
    return noveltyPsi(this.tf, this.ae.get(k)!, obs, act, this.acfg.psiForm);
  }

  /**
   * Agent j's intrinsic terms on batch rows ([K, 1] each, absent when j gets none): the
   * influencer's bonus lambda_pi psi_j and the eq. 11 penalty averaged over the other
   * influencers. `sample` draws pi_j(o_j) from the run's Rng (penaltyPolicy 'sample' at update
   * time); the replay's per-step terms pass false so recording never moves the Rng.
   */
  private intrinsicParts(j: number, b: Batch, sample: boolean): { psi?: Tensor; bonus?: Tensor; factor?: Tensor; penalty?: Tensor } {
    const tf = this.tf;
    const c = this.acfg;
    const out: { psi?: Tensor; bonus?: Tensor; factor?: Tensor; penalty?: Tensor } = {};
    if (this.influencers.includes(j) && c.lambdaPi > 0) {
      out.psi = this.psi(j, b.obs[j], b.act[j]);
      out.bonus = tf.mul(out.psi, c.lambdaPi);
    }
    const others = this.influencers.filter((k) => k !== j);
    if (others.length > 0) {
      const [factor, penalty] = tf.tidy(() => {
        const codec = this.lay.codecs[j];
        const raw = this.actors[j].net.forward(b.obs[j]);
        const pi = actionTensor(tf, codec, raw, this.drawRng, b.mask[j], sample);
        const dev = tf.sum(tf.square(tf.sub(pi, b.act[j])), 1, true);
        let f: Tensor = tf.zerosLike(dev);
        for (const k of others) {
          const psi = this.psi(k, b.obs[k], b.act[k]);
          if (c.penaltyForm === 'paper') f = tf.add(f, tf.exp(tf.mul(psi, -c.omega)));
          else {
            const lo = tf.min(psi);
            const hi = tf.max(psi);
            f = tf.add(f, tf.mul(tf.div(tf.sub(psi, lo), tf.add(tf.sub(hi, lo), 1e-8)), c.omega));
          }
        }
        f = tf.div(f, others.length);
        return [f, c.penaltyForm === 'paper' ? tf.mul(f, dev) : tf.mul(f, tf.sqrt(dev))];
      });
      out.factor = factor;
      out.penalty = penalty;
    }
    return out;
  }

  protected override trainingReward(j: number, b: Batch): Tensor {
    const tf = this.tf;
    const base = super.trainingReward(j, b);
    if (this.extrinsicOnly || !this.usesIM() || !this.team.includes(j)) return base;
    const parts = this.intrinsicParts(j, b, this.acfg.penaltyPolicy === 'sample');
    const out = tf.tidy(() => {
      let r = base;
      if (parts.bonus) r = tf.add(r, parts.bonus);
      if (parts.penalty) r = tf.sub(r, parts.penalty);
      return r;
    });
    if (this.inMainUpdate) {
      // Per agent (suffix _<agent index>, as interaction/*) and the pooled means charted before.
      const mean = (t: Tensor) => tf.tidy(() => tf.mean(t).dataSync()[0]);
      if (parts.psi) {
        const psi = mean(parts.psi);
        this.stats.add('im/psi_mean', psi);
        this.stats.add(`im/psi_${j}`, psi);
        this.stats.add(`im/bonus_${j}`, psi * this.acfg.lambdaPi);
      }
      if (parts.factor && parts.penalty) {
        this.stats.add('im/penalty_factor_mean', mean(parts.factor));
        this.stats.add(`im/penalty_${j}`, mean(parts.penalty));
      }
      this.stats.add(`im/intrinsic_${j}`, tf.tidy(() => tf.mean(tf.sub(out, base)).dataSync()[0]));
    }
    for (const t of Object.values(parts)) t.dispose();
    if (out !== base) base.dispose();
    return out;
  }

  /**
   * The replay of copy b's episode with the learner's view of it: the influencer(s) marked,
   * and each agent's intrinsic reward per step (bonus minus penalty; 0 outside the influence
   * team) as the networks value it at the round's end, on the stored transitions of that episode.
   */
  private annotate(b: number, replay: Replay): Replay {
    const marks = this.influencers.map((k) => ({ agent: k, label: 'influencer', color: INFLUENCER_COLOR, doc: "ALITA's influencer: maximises its influence on its teammates' values" }));
    const L = this.rollout.maxSteps;
    const rows = this.stepSlots.subarray(b * L, b * L + Math.min(replay.steps, L));
    if (!this.usesIM() || replay.steps > L || rows.some((r) => r < 0)) return annotateReplay(replay, this.N, 'alita', [], marks);
    const batch = this.gather(Int32Array.from(rows));
    const values = new Float32Array(replay.steps * this.N);
    for (const j of this.team) {
      const parts = this.intrinsicParts(j, batch, false);
      const v = this.tf.tidy(() => {
        let r: Tensor = this.tf.zeros([replay.steps, 1]);
        if (parts.bonus) r = this.tf.add(r, parts.bonus);
        if (parts.penalty) r = this.tf.sub(r, parts.penalty);
        return r.dataSync() as Float32Array;
      });
      for (const t of Object.values(parts)) t.dispose();
      for (let t = 0; t < replay.steps; t++) values[t * this.N + j] = v[t];
    }
    this.disposeBatch(batch);
    const series = [
      {
        key: 'intrinsic',
        title: 'intrinsic reward',
        doc: "ALITA's intrinsic term per step: the influencer's novelty bonus lambda_pi psi, minus an influencee's penalty exp(-omega psi) ||pi - a||^2",
        values,
      },
    ];
    return annotateReplay(replay, this.N, 'alita', series, marks);
  }

  // ---- the influence estimators ------------------------------------------------------------

  protected override beforeEpisodes(): void {
    if (!this.usesF() || this.acfg.influenceEstimator !== 'clones') return;
    for (const [, m] of this.est) {
      for (const [i, n] of m) {
        n.params.copyFrom(this.critics[i].params);
        n.opt.dispose();
        n.opt = new Adam(this.tf, n.params, { lr: this.cfg.lrCritic });
      }
    }
  }

  private source(k: number): DtSource {
    const { lay, buffer } = this;
    return {
      count: buffer.count,
      obsOf: (r) => buffer.row('obs', r).subarray(lay.obsOff[k], lay.obsOff[k] + lay.obsSizes[k]),
      actOf: (r) => buffer.row('act', r).subarray(lay.actOff[k], lay.actOff[k] + lay.codecs[k].dim),
    };
  }

  private indexRows(k: number, slots: Iterable<number>): void {
    const ix = this.dtIndex.get(k);
    if (!ix) return;
    const src = this.source(k);
    for (const s of slots) {
      const o = src.obsOf(s);
      const a = src.actOf(s);
      ix.set(s, pairKey(o, 0, o.length, a, 0, a.length));
    }
  }

  /** Rows of the replay at `index` as a batch. */
  private gather(index: Int32Array): Batch {
    const fields: Record<string, Float32Array> = {};
    for (const [f, w] of Object.entries(this.buffer.widths)) {
      const out = new Float32Array(index.length * w);
      index.forEach((r, i) => out.set(this.buffer.row(f, r), i * w));
      fields[f] = out;
    }
    return this.batchFrom(fields, index, index.length);
  }

  protected override afterStore(t: number, valid: Uint8Array): void {
    const live: number[] = [];
    valid.forEach((v, b) => v && live.push(b));
    {
      // Where each copy's step landed in the replay (rows are stored in copy order).
      const cap = this.buffer.capacity;
      const end = this.buffer.nextSlot;
      const L = this.rollout.maxSteps;
      live.forEach((b, c) => (this.stepSlots[b * L + t] = (end - live.length + c + cap * 2) % cap));
    }
    if (this.acfg.dtMode === 'exact' && this.usesF()) {
      const cap = this.buffer.capacity;
      const end = this.buffer.nextSlot;
      const slots = live.map((_, c) => (end - live.length + c + cap * 2) % cap);
      for (const k of this.influencers) this.indexRows(k, slots);
    }
    if (!this.usesF() || live.length === 0 || this.buffer.count < this.warmup || t % this.acfg.cloneUpdateEvery !== 0) return;
    const c = this.acfg;
    const { lay } = this;
    for (let u = 0; u < c.cloneUpdatesPerStep; u++) {
      const b = live[(Math.floor(t / c.cloneUpdateEvery) * c.cloneUpdatesPerStep + u) % live.length];
      for (const k of this.influencers) {
        const qObs = this.curObs.subarray(b * lay.obsTotal + lay.obsOff[k], b * lay.obsTotal + lay.obsOff[k] + lay.obsSizes[k]);
        const qAct = this.curAct.subarray(b * lay.actTotal + lay.actOff[k], b * lay.actTotal + lay.actOff[k] + lay.codecs[k].dim);
        const dt = retrieveDt(c.dtMode, this.source(k), qObs, qAct, c.dtBatch, c.dtPool, this.ctx.rng, this.dtIndex.get(k) ?? null, c.dtMinExact);
        if (Number.isFinite(dt.dist)) {
          this.stats.add('influence/dt_dist', dt.dist);
          this.stats.add('influence/dt_exact_frac', dt.exactFrac);
        }
        const batch = this.gather(dt.index);
        this.stepEstimator(k, batch);
        this.disposeBatch(batch);
      }
    }
  }

  /** One Adam step of influencer k's estimator(s) on a D_t batch (eq. 6 / eq. 8). */
  private stepEstimator(k: number, b: Batch): void {
    const tf = this.tf;
    const I = this.influencees(k);
    this.extrinsicOnly = this.acfg.influenceReward === 'extrinsic';
    // Influencees' critics are centralised (team agents): one set of target actions serves all.
    const next = this.targetActions(I[0], b);
    const ys = I.map((i) => this.criticTarget(i, b, next));
    next.forEach((t, m) => t !== b.act[m] && t.dispose());
    this.extrinsicOnly = false;
    const x = this.criticInput(I[0], b.obs, b.act, true);
    const m = this.est.get(k)!;
    if (this.acfg.influenceEstimator === 'clones') {
      I.forEach((i, n) => {
        const net = m.get(i)!;
        const loss = this.stepNet(net.params, net.opt, () => tf.mean(tf.square(tf.sub(net.net.forward(x), ys[n]))));
        this.stats.add('influence/clone_loss', loss);
      });
    } else {
      const net = m.get(-1)!;
      const y = tf.concat(ys, 1);
      const loss = this.stepNet(net.params, net.opt, () => tf.mean(tf.sum(tf.square(tf.sub(net.net.forward(x), y)), 1)));
      y.dispose();
      this.stats.add('influence/clone_loss', loss);
    }
    x.dispose();
    ys.forEach((y) => y.dispose());
  }

  /** Q_est_i(x, pi) for influencer k's influencees: [K, |I|]. */
  private estimate(k: number, x: Tensor): Tensor {
    const m = this.est.get(k)!;
    if (this.acfg.influenceEstimator === 'single') return m.get(-1)!.net.forward(x);
    return this.tf.concat(this.influencees(k).map((i) => m.get(i)!.net.forward(x)), 1);
  }

  /** The critic-input slots of the team's actions (centralised layout: observations first). */
  private teamSlots(): Slot[] {
    return this.team.map((i) => ({ off: this.lay.obsTotal + this.lay.actOff[i], size: this.lay.codecs[i].dim }));
  }

  /**
   * z_i for the first KF rows of b (constants), [KF] per influencee of k, under `target` (the
   * configured one by default); `rng` draws the Gumbel samples in it (the F diagnostics pass
   * their own stream).
   */
  zTargets(k: number, b: Batch, KF: number, target: InfluenceTarget = this.acfg.influenceTarget, rng: Rng = this.ctx.rng): Float32Array[] {
    const tf = this.tf;
    const c = this.acfg;
    const I = this.influencees(k);
    const slice = (t: Tensor) => tf.slice(t, [0, 0], [KF, t.shape[1] as number]);
    if (target === 'code') {
      // The run's own path keeps its per-influencee target-action draws; another stream gets one
      // shared set (the influencees' critics are centralised, so one set serves them all).
      const shared = rng === this.ctx.rng ? undefined : this.targetActionsFrom(b, rng);
      const out = I.map((i) => {
        const y = this.criticTarget(i, b, shared);
        const v = (slice(y).dataSync() as Float32Array).slice();
        y.dispose();
        return v;
      });
      shared?.forEach((t) => t.dispose());
      return out;
    }
    const obs = (target === 'eq7' ? b.nobs : b.obs).map(slice);
    const masks = (target === 'eq7' ? b.nmask : b.mask).map((m) => (m ? slice(m) : null));
    // Non-team agents at their current Gumbel sample; the team's greedy actions start the ascent.
    const acts: Tensor[] = [];
    const init = new Int32Array(KF * this.team.length);
    for (let m = 0; m < this.N; m++) {
      const raw = this.actors[m].net.forward(obs[m]);
      acts.push(actionTensor(tf, this.lay.codecs[m], raw, rng, masks[m]));
      const ti = this.team.indexOf(m);
      if (ti >= 0) {
        const logits = tf.tidy(() => (masks[m] ? tf.add(raw, tf.mul(tf.sub(1, masks[m]!), -1e9)) : raw));
        const am = tf.argMax(logits, 1);
        const arr = am.dataSync();
        for (let r = 0; r < KF; r++) init[r * this.team.length + ti] = arr[r];
        am.dispose();
        if (logits !== raw) logits.dispose();
      }
      raw.dispose();
    }
    const xT = tf.concat([...obs, ...acts], 1);
    const base = xT.dataSync() as Float32Array;
    const inDim = xT.shape[1] as number;
    xT.dispose();
    obs.forEach((t) => t.dispose());
    masks.forEach((t) => t?.dispose());
    acts.forEach((t) => t.dispose());
    const slots = this.teamSlots();
    return I.map((i) => {
      const critic = (c.influenceCritic === 'online' ? this.critics : this.criticTargets)[i].net;
      const q = (rows: Float32Array, R: number): Float32Array => {
        const x = tf.tensor2d(rows, [R, inDim]);
        const y = critic.forward(x);
        const v = (y.dataSync() as Float32Array).slice();
        x.dispose();
        y.dispose();
        return v;
      };
      const res = jointCount(slots) <= c.maxJointEnum ? exactJointMax(base, KF, inDim, slots, q) : ascentJointMax(base, KF, inDim, slots, q, init, c.ascentRounds);
      return res.value;
    });
  }

  /** Every agent's target action at b's next observations, drawn from `rng` (as `targetActions`). */
  private targetActionsFrom(b: Batch, rng: Rng): Tensor[] {
    const tf = this.tf;
    return this.lay.codecs.map((codec, m) =>
      tf.tidy(() => {
        const raw = this.actorTargets[m].net.forward(b.nobs[m]);
        return this.cfg.targetActions === 'greedy' ? greedyAction(tf, codec, raw, b.nmask[m]) : actionTensor(tf, codec, raw, rng, b.nmask[m]);
      }),
    );
  }

  /**
   * lambda F on the first influenceBatch rows. 'pathwise': through the estimator into a^_k.
   * 'score-function' (Theorem 1): a_k = argmax of the same Gumbel-softmax sample a^_k, an exact
   * categorical sample (Gumbel-max), so both estimators see the same draw and no extra noise is
   * taken; g and q are the estimator's values at (x, onehot(a_k), pi_-k), held constant, and only
   * log pi_k(a_k | o_k) carries the gradient (scoreFunctionSurrogate).
   */
  protected override actorExtraLoss(j: number, b: Batch, aHat: Tensor): Tensor | null {
    if (!this.usesF() || !this.influencers.includes(j)) return null;
    const tf = this.tf;
    const c = this.acfg;
    const KF = c.influenceBatch > 0 ? Math.min(c.influenceBatch, b.K) : b.K;
    const z = this.zTargets(j, b, KF);
    const slice = (t: Tensor) => (KF === b.K ? t : tf.slice(t, [0, 0], [KF, t.shape[1] as number]));
    const obs = b.obs.map(slice);
    const pi = this.lay.codecs.map((codec, m) => {
      if (m === j) return slice(aHat);
      const raw = this.actors[m].net.forward(obs[m]);
      const a = actionTensor(tf, codec, raw, this.ctx.rng, b.mask[m] ? slice(b.mask[m]!) : null, c.piOthers === 'sample');
      // A constant: the other agents' slots carry no gradient (tfjs has no stop-gradient op).
      return tf.tensor2d(a.dataSync() as Float32Array, a.shape as [number, number]);
    });
    const I = this.influencees(j);
    const zT = tf.tensor2d(Float32Array.from({ length: KF * I.length }, (_, n) => z[n % I.length][Math.floor(n / I.length)]), [KF, I.length]);
    let loss: Tensor;
    let q: Tensor;
    let fv: number;
    if (c.influenceGradient === 'pathwise') {
      q = this.estimate(j, tf.concat([...obs, ...pi], 1));
      const F = tf.div(tf.mean(tf.sum(tf.square(tf.sub(q, zT)), 1)), I.length);
      fv = F.dataSync()[0];
      loss = tf.mul(F, c.lambda);
    } else {
      const dim = this.lay.codecs[j].dim;
      // A constant built from the values: the sample's own path must not reach the tape.
      const am = tf.argMax(pi[j], 1);
      const action = tf.tensor1d(am.dataSync() as Int32Array, 'int32');
      am.dispose();
      const onehot = tf.cast(tf.oneHot(action, dim), 'float32');
      q = this.estimate(j, tf.concat([...obs, ...pi.map((p, m) => (m === j ? onehot : p))], 1));
      const qv = q.dataSync() as Float32Array;
      const g = Float32Array.from(qv, (v, n) => v - z[n % I.length][Math.floor(n / I.length)]);
      let f = 0;
      for (const x of g) f += (x * x) / (KF * I.length);
      fv = f;
      const raw = this.actors[j].net.forward(obs[j]);
      const mask = b.mask[j] ? slice(b.mask[j]!) : null;
      const logits = mask ? tf.add(raw, tf.mul(tf.sub(1, mask), MASKED_LOGIT)) : raw;
      const logp = tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1);
      loss = tf.mul(scoreFunctionSurrogate(tf, logp, g, qv, KF, I.length), c.lambda);
    }
    this.stats.add('influence/F', fv);
    this.stats.add(`influence/F_${j}`, fv);
    if (c.influenceDiagnostics > 0) this.diagnoseTargets(j, b, q, z, Math.min(c.influenceDiagnostics, KF));
    return loss;
  }

  /**
   * F on the first D rows under each of the three targets (spec §2.5), with the estimator values
   * `q` [KF, |I|] the gradient used and `z` the configured target's (already computed on those
   * rows); the other two targets cost extra forward passes only. Their samples come from the
   * diagnostics' stream and their reward evaluations log nothing, so the run is unchanged.
   */
  private diagnoseTargets(k: number, b: Batch, q: Tensor, z: Float32Array[], D: number): void {
    const I = this.influencees(k);
    const qv = q.dataSync() as Float32Array;
    const fOf = (zs: Float32Array[]) => {
      let f = 0;
      for (let r = 0; r < D; r++) for (let n = 0; n < I.length; n++) f += (qv[r * I.length + n] - zs[n][r]) ** 2;
      return f / (D * I.length);
    };
    // The other targets' passes run on D replay rows, not the whole minibatch ('code' reads all rows).
    const sub = D === b.K ? b : this.gather(b.index.subarray(0, D));
    const wasMain = this.inMainUpdate;
    this.inMainUpdate = false;
    this.drawRng = this.diagRng;
    try {
      for (const target of TARGETS) {
        const zs = target === this.acfg.influenceTarget ? z : this.zTargets(k, sub, D, target, this.diagRng);
        const f = fOf(zs);
        this.stats.add(`influence/F_${target}`, f);
        if (this.influencers.length > 1) this.stats.add(`influence/F_${target}_${k}`, f);
      }
    } finally {
      this.inMainUpdate = wasMain;
      this.drawRng = this.ctx.rng;
      if (sub !== b) this.disposeBatch(sub);
    }
  }

  protected override update(): void {
    this.inMainUpdate = true;
    try {
      super.update();
    } finally {
      this.inMainUpdate = false;
    }
  }

  // ---- autoencoder ---------------------------------------------------------------------------

  private trainAutoencoders(): void {
    if (!this.usesIM() || this.buffer.count === 0) return;
    const c = this.acfg;
    const { lay, buffer } = this;
    const L = Math.min(buffer.count, this.roundSteps.reduce((s, n) => s + n, 0));
    const cap = buffer.capacity;
    const end = buffer.nextSlot;
    const rows = Int32Array.from({ length: L }, (_, i) => (end - 1 - i + cap * 2) % cap);
    for (const k of this.influencers) {
      const input = (row: number, v: Float32Array, at: number) => {
        v.set(buffer.row('obs', row).subarray(lay.obsOff[k], lay.obsOff[k] + lay.obsSizes[k]), at);
        v.set(buffer.row('act', row).subarray(lay.actOff[k], lay.actOff[k] + lay.codecs[k].dim), at + lay.obsSizes[k]);
      };
      const losses = autoencoderEpoch(this.tf, this.ae.get(k)!, rows, lay.obsSizes[k] + lay.codecs[k].dim, input, c, this.ctx.rng);
      for (const loss of losses) this.stats.add('im/ae_loss', loss);
    }
  }

  override async round(): Promise<RoundResult> {
    this.stepSlots.fill(-1);
    const res = await super.round();
    this.roundSteps.push(res.envSteps);
    while (this.roundSteps.length > this.acfg.aeWindowRounds) this.roundSteps.shift();
    this.trainAutoencoders();
    const extra = this.stats.take();
    const episodes = res.episodes.map((ep) => (ep.replay ? { ...ep, replay: this.annotate(ep.envIndex, ep.replay) } : ep));
    return { ...res, episodes, stats: { ...res.stats, ...extra, 'influence/influencer': this.influencers[0] } };
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  protected override extraParts() {
    const params: Record<string, ParamSet> = {};
    const optimisers: Record<string, Optimizer> = {};
    for (const [k, n] of this.ae ?? []) {
      params[`ae/${k}/`] = n.params;
      optimisers[`ae${k}`] = n.opt;
    }
    for (const [k, m] of this.est ?? []) {
      for (const [i, n] of m) {
        const tag = i < 0 ? `qcen${k}` : `clone${k}_${i}`;
        params[`${tag}/`] = n.params;
        optimisers[tag] = n.opt;
      }
    }
    return { params, optimisers };
  }

  protected override extraState(): Record<string, unknown> {
    return { influencers: this.influencers, roundSteps: this.roundSteps, diagRng: this.diagRng.getState() };
  }

  override load(ckpt: Checkpoint): void {
    const inf = ckpt.extra.influencers;
    if (!Array.isArray(inf) || inf.some((k) => !this.team.includes(k as number))) throw new Error('alita: checkpoint has no valid "influencers"');
    if (JSON.stringify(inf) !== JSON.stringify(this.influencers)) {
      this.disposeParts();
      this.influencers = inf as number[];
      this.buildParts();
    }
    super.load(ckpt);
    this.roundSteps.length = 0;
    this.roundSteps.push(...((ckpt.extra.roundSteps as number[]) ?? []));
    // Checkpoints written before the F diagnostics existed restart their stream from the seed.
    if (Array.isArray(ckpt.extra.diagRng)) this.diagRng.setState(ckpt.extra.diagRng as number[]);
    if (this.acfg.dtMode === 'exact') for (const k of this.influencers) this.indexRows(k, Array.from({ length: this.buffer.count }, (_, r) => r));
  }
}

export { scoreFunctionSurrogate } from './alita-influence';

export const ALITA_VARIANT: DdpgVariant = { id: 'alita', schema: alitaSchema };

export const alitaEntry: AlgoEntry = {
  id: 'alita',
  title: 'ALITA: MADDPG with an influencer, influence function and novelty (ICLR 2022 submission)',
  schema: alitaSchema,
  accepts: alitaProblems,
  diagnostics: [
    { prefix: 'influence', title: 'Influence: F per influencer, its estimators and D_t', doc: "influence/F_<k>: influencer k's influence term; clone_loss, dt_dist, dt_exact_frac: the estimators and D_t retrieval" },
    { prefix: 'im', title: 'Intrinsic motivation: bonus, penalty and novelty per agent', doc: 'im/bonus_<k> (lambda_pi psi), im/penalty_<i> (eq. 11), im/intrinsic_<j> (their sum), im/psi_<k>, im/ae_loss' },
  ],
  createTrainer: (ctx) => new AlitaTrainer(ctx),
  createPolicy: (ctx) => new MaddpgPolicy(ctx),
};
