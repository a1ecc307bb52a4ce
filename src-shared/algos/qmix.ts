/**
 * QMIX: monotonic value function factorisation (Rashid et al. 2018) as run in Malenfant &
 * Richards 2025 (Table 7, Figs. 2-4, 8, 10; specs/manitokan-learners.md §4 "VDN / QMIX / QTRAN").
 *
 * Q_tot(s, u) = elu(q W1(s) + b1(s)) . w2(s) + V(s), W1 = |hyper_w1(s)|, w2 = |hyper_w2(s)|
 * (nn/mixers.ts `QmixMixer`): the absolute values make dQ_tot/dQ_i >= 0 for every agent, so the
 * joint argmax is the agents' own argmaxes. Trained on the team reward (sum of the agents'
 * rewards) with TD(lambda) targets y = r + gamma Q_tot^target(s', argmax_u' Q^target) over whole
 * episodes from the replay buffer:  L = mean over valid steps of (Q_tot(s, u) - y)^2.
 * Rollout, buffer, targets, optimiser and schedules: value-mixing-trainer.ts.
 *
 * The mixer takes the agents' observations concatenated (`mixerState = joint-obs`, 54 = 2 x 27
 * for Manitokan): Table 7's hypernetworks take "input = 54" and the released code feeds the same;
 * `state` gives it the env's global state instead (PyMARL's usual input).
 *
 * Paper (Table 7) vs released code (sfw3r43gegya/Manitokan @ 99ffe1e: qmixer.yaml,
 * qmix_learner.py with mixer=qmix, Q_mixer.py, dqn_agent.py), and Cairn's defaults. The
 * `manitokan-qmix*-released-code` presets switch every code value on together.
 *
 *   option                  paper (default here)               released code
 *   agent network           Linear(27 -> 64) relu ->            Linear(27 -> 64) GELU ->
 *                           GRU(64 -> 64) -> Linear(64 -> 6)    GRUCell(64 -> 128) -> Linear(128 -> 6)
 *   hypernetworks           two layers, 64 hidden (Table 7;     one layer
 *                           its "52" output read as N x 32)
 *   mixing embed, V hidden  32, 64 (Table 7's bias-2 net)       32, 32
 *   optimizer, lr           Adam eps 1e-5, 1e-2 -> 1e-6         RMSprop 0.1, constant
 *                           (linear over 10,000 updates)
 *   epsilon                 1.0 -> 0.05 over 50,000 t_env       1.0 -> 0.05 over 3,000,000 acting
 *                           (anneal time not given)             steps, one coin per step for all
 *   target update           hard, every round ("1 episode")     soft tau 0.05 every 200 updates
 *   updates per round       1 (not given)                       5
 *   buffer / batch / warmup 1000 / 32 / 32 episodes             1000 / 32 / 32
 *   TD lambda, gamma        1, 0.99                             -, 0.99
 *   grad clip               10 (not given: the code's)          10
 *   env episodeLimit        150                                 300
 *
 * Where the paper is silent, Cairn chose as for VDN (vdn.ts): the team reward is the sum of the
 * agents' rewards, one episode per buffer entry, no agent id, one exploration coin per agent.
 */
import { type Schema, typedValues } from '../config/schema';
import { QmixMixer } from '../nn/mixers';
import { RecurrentQPolicy } from './recurrent-q';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';
import { ValueMixingTrainer, maskedMean, maskedTdLoss, valueMixingProblems, valueMixingSchema, type ValueMixingAlgo } from './value-mixing-trainer';

/** Mixer fields, shared with MAVEN's noise mixer. */
export const qmixMixerSchema = {
  mixingEmbedDim: { type: 'int', default: 32, min: 1, max: 4096, doc: 'Units of the mixing hidden layer (PyMARL mixing_embed_dim; paper and code: 32).' },
  hypernetLayers: { type: 'int', default: 2, min: 1, max: 2, doc: 'Layers of each weight hypernetwork (paper Table 7: 2; released code: 1).' },
  hypernetEmbed: { type: 'int', default: 64, min: 1, max: 4096, doc: 'Hidden units of two-layer hypernetworks (paper and code: 64).' },
  valueHidden: { type: 'int', default: 64, min: 1, max: 4096, doc: "Hidden units of the state-value term V(s) (paper Table 7's bias-2 network: 64; released code: 32)." },
} as const satisfies Schema;

export const qmixSchema = { ...valueMixingSchema, ...qmixMixerSchema } as const satisfies Schema;

export const qmixAlgo: ValueMixingAlgo<QmixMixer> = {
  id: 'qmix',
  latentDim: () => 0,
  build: (tf, params, dims, config, rng) => new QmixMixer(tf, params, 'mixer', mixerOptions(dims.N, dims.S, typedValues('algo', qmixMixerSchema, config)), rng),
  targetValue: (tf, net, v) => net.forward(v.q, v.states),
  loss: (tf, net, v) => {
    const qTot = net.forward(v.taken.q, v.taken.states);
    const loss = maskedTdLoss(tf, qTot, v.y, v.mask, v.count);
    return { loss, stats: { 'losses/td': tf.clone(loss), 'charts/q_tot_taken_mean': maskedMean(tf, qTot, v.mask, v.count) } };
  },
};

export function mixerOptions(N: number, S: number, cfg: { mixingEmbedDim: number; hypernetLayers: number; hypernetEmbed: number; valueHidden: number }) {
  return {
    numAgents: N,
    stateSize: S,
    embedDim: cfg.mixingEmbedDim,
    hypernetEmbed: cfg.hypernetEmbed,
    hypernetLayers: (cfg.hypernetLayers === 1 ? 1 : 2) as 1 | 2,
    valueHidden: cfg.valueHidden,
  };
}

export const qmixEntry: AlgoEntry = {
  id: 'qmix',
  title: 'QMIX: monotonic value mixing with hypernetworks (Rashid et al. 2018; Malenfant & Richards 2025, Table 7)',
  schema: qmixSchema,
  accepts: valueMixingProblems,
  createTrainer: (ctx: TrainContext) => new ValueMixingTrainer(ctx, qmixAlgo, typedValues('algo', qmixSchema, ctx.config)),
  createPolicy: (ctx: PolicyContext) => new RecurrentQPolicy(ctx, typedValues('algo', qmixSchema, ctx.config), 0),
};
