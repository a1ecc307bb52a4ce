/**
 * QTRAN: factorisation with transformation (Son et al. 2019) as run in Malenfant & Richards 2025
 * (Table 8, Figs. 2-3, 8; specs/manitokan-learners.md §4 "VDN / QMIX / QTRAN").
 *
 * Networks (nn/mixers.ts `QtranJoint`, PyMARL's `qtran_paper`): the agents' GRU hidden states and
 * one-hot actions are encoded per agent by a shared MLP (H + A -> H + A -> H + A, Table 8's
 * "action encoding 134 -> 134") and summed; Q_jt(s, u) = MLP([s, sum]) -> 32 -> 32 -> 1 (Table 8's
 * "query network", input 188 = 54 + 134) and V_jt(s) = MLP(s) -> 32 -> 32 -> 1 (input 54). The
 * agents' own Q_i come from the shared recurrent agent network. Losses (`qtranLosses`):
 *   L = L_td + optLoss L_opt + noptMinLoss L_nopt
 *   L_td   = (Q_jt(s, u) - y)^2,  y = TD(lambda) team target from Q_jt^target at the greedy next
 *            actions of the target agents (online agents with doubleQ)
 *   L_opt  = (sum_i Q_i(ubar_i) - Q_jt(s, ubar)^detached + V_jt(s))^2   ubar = greedy actions
 *   L_nopt = min(sum_i Q_i(u_i) - Q_jt(s, u)^detached + V_jt(s), 0)^2
 * each a mean over valid steps. The mixer state is the agents' concatenated observations
 * (`joint-obs`, Table 8's 54). Rollout, buffer, targets and schedules: value-mixing-trainer.ts.
 *
 * Paper (Table 8) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e: qmixer.yaml, qmix_learner.py
 * with mixer=qtrans, Qtrans_mixer.py), and Cairn's defaults. The `manitokan-qtran*-released-code`
 * presets switch every code value on together.
 *
 *   option                  paper (default here)               released code
 *   agent network           Linear(27 -> 64) relu ->            Linear(27 -> 64) GELU ->
 *                           GRU(64 -> 64) -> Linear(64 -> 6)    GRUCell(64 -> 128) -> Linear(128 -> 6)
 *                           (Table 8's 134 = 128 + 6 is the
 *                           code's width; the encoder follows
 *                           rnnHiddenDim)
 *   joint / V networks      32 -> 32 -> 1 (Table 8)             same (qtran_arch qtran_paper)
 *   opt / nopt weights      1 / 0.1 (not in the table:          1 / 0.1
 *                           the code's)
 *   optimizer, lr           Adam eps 1e-5, 1e-2 -> 1e-6         RMSprop 0.1, constant
 *   epsilon                 1.0 -> 0.05 over 50,000 t_env       1.0 -> 0.05 over 3,000,000 acting
 *                           (anneal time not given)             steps, one coin per step for all
 *   target update           hard, every round ("1 episode")     soft tau 0.05 every 200 updates
 *   updates per round       1 (not given)                       5
 *   buffer / batch / warmup 1000 / 32 / 32 episodes             1000 / 32 / 32
 *   env episodeLimit        150                                 300
 *
 * Where the paper is silent, Cairn chose as for VDN (vdn.ts): team reward = sum of the agents'
 * rewards, one episode per buffer entry, no agent id, one exploration coin per agent.
 */
import { type Schema, typedValues } from '../config/schema';
import { QtranJoint, qtranLosses, vdnMix } from '../nn/mixers';
import { RecurrentQPolicy } from './recurrent-q';
import type { Tensor, Tf } from '../nn/tf';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';
import { ValueMixingTrainer, maskedMean, valueMixingProblems, valueMixingSchema, type ValueMixingAlgo } from './value-mixing-trainer';

const qtranOwnSchema = {
  mixingEmbedDim: { type: 'int', default: 32, min: 1, max: 4096, doc: 'Hidden units of the joint Q and V networks (paper Table 8 and code: 32).' },
  optLoss: { type: 'float', default: 1, min: 0, doc: 'Weight of L_opt (paper silent; released code: 1).' },
  noptMinLoss: { type: 'float', default: 0.1, min: 0, doc: 'Weight of L_nopt (paper silent; released code: 0.1).' },
} as const satisfies Schema;

export const qtranSchema = { ...valueMixingSchema, ...qtranOwnSchema } as const satisfies Schema;

/** QTRAN's networks plus the run's loss weights. */
export interface QtranNet {
  readonly joint: QtranJoint;
  readonly optLoss: number;
  readonly noptMinLoss: number;
}

/** A copy of x as data: the same values with no gradient path (PyTorch's .detach()). */
function detached(tf: Tf, x: Tensor): Tensor {
  return tf.tensor(x.dataSync() as Float32Array, x.shape);
}

export const qtranAlgo: ValueMixingAlgo<QtranNet> = {
  id: 'qtran',
  latentDim: () => 0,
  build: (tf, params, dims, config, rng) => {
    const cfg = typedValues('algo', qtranOwnSchema, config);
    const joint = new QtranJoint(tf, params, 'mixer', { numAgents: dims.N, numActions: dims.A, stateSize: dims.S, agentHidden: dims.H, embedDim: cfg.mixingEmbedDim }, rng);
    return { joint, optLoss: cfg.optLoss, noptMinLoss: cfg.noptMinLoss };
  },
  targetValue: (_tf, net, v) => net.joint.jointQ(v.h, v.u, v.states),
  loss: (tf, net, v) => {
    const qJtTaken = net.joint.jointQ(v.taken.h, v.taken.u, v.taken.states);
    const qJtGreedy = net.joint.jointQ(v.greedy.h, v.greedy.u, v.greedy.states);
    const l = qtranLosses(tf, {
      qJtTaken,
      qJtTakenConst: detached(tf, qJtTaken),
      qJtGreedyConst: detached(tf, qJtGreedy),
      sumTaken: vdnMix(tf, v.taken.q),
      sumGreedy: vdnMix(tf, v.greedy.q),
      v: net.joint.stateValue(v.taken.states),
      y: v.y,
      mask: v.mask,
      count: v.count,
    });
    const loss = tf.add(l.td, tf.add(tf.mul(l.opt, net.optLoss), tf.mul(l.nopt, net.noptMinLoss)));
    return { loss, stats: { 'losses/td': l.td, 'losses/opt': l.opt, 'losses/nopt': l.nopt, 'charts/q_jt_taken_mean': maskedMean(tf, qJtTaken, v.mask, v.count) } };
  },
};

export const qtranEntry: AlgoEntry = {
  id: 'qtran',
  title: 'QTRAN: value factorisation with transformation (Son et al. 2019; Malenfant & Richards 2025, Table 8)',
  schema: qtranSchema,
  accepts: valueMixingProblems,
  createTrainer: (ctx: TrainContext) => new ValueMixingTrainer(ctx, qtranAlgo, typedValues('algo', qtranSchema, ctx.config)),
  createPolicy: (ctx: PolicyContext) => new RecurrentQPolicy(ctx, typedValues('algo', qtranSchema, ctx.config), 0),
};
