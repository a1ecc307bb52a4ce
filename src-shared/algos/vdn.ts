/**
 * VDN: value decomposition networks (Sunehag et al. 2017) as run in Malenfant & Richards 2025
 * (Table 6, Figs. 2-3, 8, 10; specs/manitokan-learners.md §4 "VDN / QMIX / QTRAN").
 *
 * Q_tot(tau, u) = sum_i Q_i(tau_i, u_i) (nn/mixers.ts `vdnMix`; Table 6 "mixer: tensor sum"), no
 * state input and no mixer parameters. Trained on the team reward (the sum of the agents'
 * rewards) with TD(lambda) targets y = r + gamma Q_tot^target(tau', argmax_u' Q^target) over
 * whole episodes from the replay buffer:  L = mean over valid steps of (Q_tot(tau, u) - y)^2.
 * Rollout, buffer, targets, optimiser and schedules: value-mixing-trainer.ts.
 *
 * Paper (Table 6) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e: qmixer.yaml, qmix_learner.py
 * with mixer=vdn, dqn_agent.py), and Cairn's defaults. The `manitokan-vdn*-released-code` presets
 * switch every code value on together.
 *
 *   option                  paper (default here)               released code
 *   agent network           Linear(27 -> 64) relu ->            Linear(27 -> 64) GELU ->
 *                           GRU(-> 128) -> Linear(128 -> 6)     GRUCell(64 -> 128) -> Linear(128 -> 6)
 *                           (Table 6 reads "GRU input 128,
 *                           output 64; MLP input 128": the
 *                           output layer's 128 taken as the
 *                           GRU width, rnnHiddenDim = 128)
 *   optimizer, lr           Adam eps 1e-5, 1e-2 -> 1e-6         RMSprop 0.1, constant (the
 *                           (decay shape and length not given:  MultiStepLR is never stepped)
 *                           linear over 10,000 updates)
 *   epsilon                 1.0 -> 0.05 (anneal time not        1.0 -> 0.05 over 3,000,000 acting
 *                           given: 50,000 t_env, PyMARL's)      steps, one coin per step for all
 *   target update           hard, every round ("1 episode")     soft tau 0.05 every 200 updates
 *   updates per round       1 (not given)                       5
 *   buffer / batch / warmup 1000 / 32 / 32 episodes             1000 / 32 / 32
 *   TD lambda, gamma        1, 0.99                             -, 0.99
 *   grad clip               10 (not given: the code's)          10
 *   env episodeLimit        150                                 300
 *
 * Where the paper is silent, Cairn chose: the team reward is the SUM of the agents' rewards;
 * a buffer entry is one episode (Table 6's "32 parallel episodes per buffer episode" would make
 * every batch 1024 episodes); no agent id in the input (the table's input is the observation,
 * 27); epsilon-greedy with one coin per agent.
 */
import { type Schema, typedValues } from '../config/schema';
import { vdnMix } from '../nn/mixers';
import { RecurrentQPolicy } from './recurrent-q';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';
import { ValueMixingTrainer, maskedMean, maskedTdLoss, valueMixingProblems, valueMixingSchema, type ValueMixingAlgo } from './value-mixing-trainer';

export const vdnSchema = {
  ...valueMixingSchema,
  rnnHiddenDim: { ...valueMixingSchema.rnnHiddenDim, default: 128, doc: "GRU hidden size (paper Table 6: the output layer's input, 128; released code: 128)." },
} as const satisfies Schema;

/** VDN's part of the shared trainer: no networks, Q_tot = sum of the agents' Q. */
export const vdnAlgo: ValueMixingAlgo<null> = {
  id: 'vdn',
  latentDim: () => 0,
  build: () => null,
  targetValue: (tf, _net, v) => vdnMix(tf, v.q),
  loss: (tf, _net, v) => {
    const qTot = vdnMix(tf, v.taken.q);
    const loss = maskedTdLoss(tf, qTot, v.y, v.mask, v.count);
    return { loss, stats: { 'losses/td': tf.clone(loss), 'charts/q_tot_taken_mean': maskedMean(tf, qTot, v.mask, v.count) } };
  },
};

export const vdnEntry: AlgoEntry = {
  id: 'vdn',
  title: 'VDN: value decomposition networks (Sunehag et al. 2017; Malenfant & Richards 2025, Table 6)',
  schema: vdnSchema,
  accepts: valueMixingProblems,
  createTrainer: (ctx: TrainContext) => new ValueMixingTrainer(ctx, vdnAlgo, typedValues('algo', vdnSchema, ctx.config)),
  createPolicy: (ctx: PolicyContext) => new RecurrentQPolicy(ctx, typedValues('algo', vdnSchema, ctx.config), 0),
};
