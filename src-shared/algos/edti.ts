/**
 * EDTI: exploration via decision-theoretic influence, the Value of Interaction (Wang et al.,
 * ICLR 2020; code TonghanWang/EITI-EDTI, runner.py `--r_tv`; shared/specs/alita.md §8), a
 * baseline of ALITA Table 1.
 *
 * EITI's counts and curiosity (eiti.ts, core/transition-counts.ts), on the same independent MLP
 * PPO (ppo-trainer.ts), plus the value of agent i's interaction with its teammates. Each agent's
 * critic has three value heads (`extraHeads: 2` of the PPO hooks): head 0 on the shaped reward
 * (the policy's advantage), head 1 V^ext on the env reward alone, head 2 V^int on the curiosity
 * alone, each regressed on its own GAE returns (the code's model, e_ and c_ values). Agent i's
 * reward at step t:
 *
 *   r_i = r_ext_i + c_i + beta_T sum_j I_ij
 *       + w_tv gamma sum_{j != i} I_ij (beta_ext V_j^ext(s'_j) + beta_int V_j^int(s'_j))
 *       + w_r sum_{j != i} (beta_r_ext r_ext_j + beta_r_int c_j)
 *
 * with c = eta / sqrt(n + 1) the curiosity and I_ij EITI's interaction term (its `interaction`
 * form). V_j(s'_j) is the value of j's next observation read from this round's critic pass (0
 * after a termination; the time limit bootstraps). The code reads the NEXT ROLLOUT STEP's value,
 * which after a termination belongs to the next episode (its auto-reset): not reproduced.
 *
 * Paper / code / here:
 * | aspect | EDTI paper | EDTI code | here |
 * |---|---|---|---|
 * | value heads | V^ext, V^int | separate e_/c_ value models beside the policy's value | 3 heads per agent critic |
 * | eta | Table 2 (not read) | --gamma_dec (README: 10) | 10, our configuration |
 * | beta_ext, beta_int (VoI) | Table 2 (not read) | --gamma_coor_tv_e 0.1, --gamma_coor_tv_c 1 (README) | same |
 * | w_tv | - | --gamma_coor_tv 1 | 1 |
 * | reward term | part of VoI | --gamma_coor_r 1, r_e 0.1, r_c 0.1 (README, long example) | same |
 * | beta_T | - | --gamma_coor_t 0 (README EDTI run) | 0 |
 * | c_ij | count-based weight | the env class's count output | EITI's interaction term |
 */
import { typedValues, type Schema, type Values } from '../config/schema';
import { CountBonus, countBonusSchema, countProblems } from './eiti';
import { ippoSchema } from './ippo';
import { PpoPolicy, PpoTrainer, ppoMlpSchema, type PpoHookContext, type PpoHooks, type PpoVariant } from './ppo-trainer';
import type { AlgoEntry, PolicyContext, TrainContext } from './types';

export const edtiSchema = {
  ...ppoMlpSchema(ippoSchema),
  ...countBonusSchema,
  betaT: { type: 'float', default: 0, min: 0, doc: "EITI's interaction weight beta_T, added on top (README EDTI run: --gamma_coor_t=0)." },
  betaExt: { type: 'float', default: 0.1, min: 0, doc: 'Weight of the teammate extrinsic value in the VoI term (README: --gamma_coor_tv_e=0.1).' },
  betaInt: { type: 'float', default: 1, min: 0, doc: 'Weight of the teammate intrinsic value in the VoI term (README: --gamma_coor_tv_c=1).' },
  voiWeight: { type: 'float', default: 1, min: 0, doc: 'Overall weight of the value term (code --gamma_coor_tv: 1).' },
  rewardTermWeight: { type: 'float', default: 1, min: 0, doc: 'Overall weight of the teammate reward term (code --gamma_coor_r: 1; 0 = the code\'s --tv alone).' },
  rewardBetaExt: { type: 'float', default: 0.1, min: 0, doc: 'Weight of the teammate extrinsic reward (README long example: --gamma_coor_r_e=0.1).' },
  rewardBetaInt: { type: 'float', default: 0.1, min: 0, doc: 'Weight of the teammate curiosity (README long example: --gamma_coor_r_c=0.1).' },
} as const satisfies Schema;

function edtiHooks({ train, config }: PpoHookContext): PpoHooks {
  const cfg = typedValues('algo', edtiSchema, config as Values);
  const bonus = new CountBonus(train, cfg.eta, cfg.interaction);
  const { N, B } = bonus;
  let voi = new Float32Array(0);
  return {
    extraHeads: 2,
    beforeStep: (t, actions) => bonus.beforeStep(t, actions),
    afterStep: (t) => bonus.afterStep(t),
    shape: (x) => {
      const M = N * B;
      const [ext, int] = x.extraRewards;
      const [, vExt, vInt] = x.values;
      // The streams first: the extra heads learn the env reward and the curiosity alone.
      for (let t = 0; t < x.T; t++) {
        for (let b = 0; b < B; b++) {
          if (!x.valid[t * B + b]) continue;
          for (let i = 0; i < N; i++) {
            ext[t * M + i * B + b] = x.rewards[t * M + i * B + b];
            int[t * M + i * B + b] = bonus.curiosity[(t * N + i) * B + b];
          }
        }
      }
      if (voi.length < x.T * M) voi = new Float32Array(x.T * M);
      for (let t = 0; t < x.T; t++) {
        for (let b = 0; b < B; b++) {
          if (!x.valid[t * B + b]) continue;
          // V(s') exists unless the episode terminated at t (slot T holds time-limit bootstraps).
          const hasNext = t < x.endStep[b] || x.endTrunc[b] === 1;
          for (let i = 0; i < N; i++) {
            let tv = 0;
            let r = 0;
            for (let j = 0; j < N; j++) {
              if (j === i) continue;
              const c = bonus.interaction[((t * N + i) * N + j) * B + b];
              const col = (t + 1) * M + j * B + b;
              if (hasNext) tv += c * (cfg.betaExt * vExt[col] + cfg.betaInt * vInt[col]);
              r += cfg.rewardBetaExt * ext[t * M + j * B + b] + cfg.rewardBetaInt * int[t * M + j * B + b];
            }
            voi[t * M + i * B + b] = cfg.voiWeight * x.gamma * tv + cfg.rewardTermWeight * r;
          }
        }
      }
      for (let t = 0; t < x.T; t++) {
        for (let b = 0; b < B; b++) {
          if (!x.valid[t * B + b]) continue;
          for (let i = 0; i < N; i++) {
            const k = t * M + i * B + b;
            x.rewards[k] += int[k] + cfg.betaT * bonus.interactionSum(t, i, b) + voi[k];
          }
        }
      }
      return bonus.stats(x, (i, t, b) => ({
        curiosity: bonus.curiosity[(t * N + i) * B + b],
        interaction: bonus.interactionSum(t, i, b),
        voi: voi[t * M + i * B + b],
      }));
    },
    save: () => bonus.save(),
    load: (st) => bonus.load(st),
  };
}

export const EDTI_VARIANT: PpoVariant = { id: 'edti', schema: edtiSchema, independent: true, inputs: 'features', hooks: edtiHooks };

export const edtiEntry: AlgoEntry = {
  id: 'edti',
  title: 'EDTI: independent PPO with count curiosity and the value of interaction (Wang et al. 2020)',
  schema: edtiSchema,
  accepts: countProblems,
  createTrainer: (ctx: TrainContext) => new PpoTrainer(ctx, EDTI_VARIANT),
  createPolicy: (ctx: PolicyContext) => new PpoPolicy(ctx, EDTI_VARIANT),
};
