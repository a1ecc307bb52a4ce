/**
 * Cooperative Treasure Collection (MAAC's `fullobs_collect_treasure`, Iqbal & Sha 2019; the
 * F2A2 paper's "CTC") on the particle world (particle-world.ts). shared/specs/environments.md
 * §4.1-4.2; the F2A2 settings are shared/specs/f2a2.md §5.
 *
 * Entities: agents 0-5 "hunter i" (collectors: size 0.05, mass 1), agents 6-7 "bank d"
 * (deposits: size 0.075, mass 2.25); all collide, silent, accel 1.5, max speed 1. Landmarks
 * 8-13 "treasure k": size 0.025, immobile, no collision, each of type 0 or 1 (bank d accepts
 * type d). dim_c is unused (everyone is silent).
 *
 * Physics (`physics` option): 'maac' (default) is the MAAC authors' MPE fork the paper ran:
 * action force mass x accel x (accel u), so every agent accelerates by 2.25 per unit direction,
 * and mass-weighted contacts; 'openai' is OpenAI MPE's force u x accel (banks then accelerate
 * by 1.5 / 2.25 only) and unweighted contacts. The rest is shared (dt 0.1, damping 0.25).
 *
 * Reset, in the released code's draw order: each agent uniform in [-1, 1)^2 at rest, holding
 * nothing; then per treasure its type (uniform 0/1) and its position uniform in [-0.95, 0.95)^2.
 *
 * One step, in the fork's order: actions -> physics -> rewards and observations (with the
 * holdings and treasures as they were before this step's events) -> `post_step`:
 *   1. per treasure in index order: alive -> the first hunter (index order) that holds nothing
 *      and touches it (distance < size sum, strict) picks it up (holding <- its type) and the
 *      treasure dies, parked at (-999, -999); dead (at the start of this step's check) -> it
 *      respawns (respawn_prob 1) uniform in [-0.95, 0.95)^2 with a new uniform type. So a
 *      collected treasure is gone for exactly one observation;
 *   2. per hunter holding type t that touches bank t: it deposits (holding <- none). A pick-up
 *      and a deposit can happen in the same step.
 * Observations are therefore written inside the step, before `post_step` (the base's
 * `observe` after the step leaves them alone; a restored checkpoint restores them as saved).
 *
 * Rewards (per agent, never shared; `shaping: false` drops the 0.1 x distance terms, the code's
 * `shape` flag):
 * - global G = 5 x #(hunter holding nothing, treasure) touching pairs + 5 x #(bank d, hunter
 *   holding d) touching pairs; every agent receives G;
 * - hunter: -5 per other hunter it touches; -0.1 x distance to the nearest treasure (dead ones
 *   at -999 included, as the code does) when empty-handed, else -0.1 x distance to the bank of
 *   its type;
 * - bank d: -0.1 x the smallest distance to a hunter holding type d, or, when none does,
 *   -0.1 x |mean over the 6 hunters of (hunter - bank)| (the distance to their centroid).
 *
 * Observation (hunters 86, banks 84; rows 86 wide, banks zero-padded): own position (2), own
 * velocity (2), hunters only: held type one-hot (2); the 7 other agents nearest first (ties by
 * index): position - own (2), velocity (2), encoding (4: hunter [0, 0, held one-hot], bank
 * [own type one-hot, 0, 0]); the 6 treasures nearest first: position - own (2), type one-hot
 * (2) (a dead treasure shows its old type at (-999, -999) - own).
 * Global state (Cairn's choice; MAAC has none): agent positions (16) and velocities (16),
 * hunters' held one-hot (12), treasure positions (12), types one-hot (12), alive flags (6) = 74.
 *
 * Metrics: `mean_return` = mean over the 8 agents of their episode return (the F2A2 tables'
 * "mean episode reward of all agents", f2a2.md §6), `return_total` (sum over agents),
 * `treasures_collected` and `treasures_deposited` (pick-ups and deposits over the episode),
 * `hunter_collisions` (touching hunter pairs summed over the steps), `episode_length`.
 *
 * Colours as the code paints them: seaborn's default palette for the two types
 * (#4C72B0, #DD8452), banks in their type's colour x 0.35, hunters light grey (0.85). Replays:
 * the particle world's columns plus `present` ((steps+1) x E: 0 while a treasure is dead, so
 * the world view hides it), `holding` ((steps+1) x 6: held type or -1) and `treasure_type`
 * ((steps+1) x 6). Entity colours in meta are those of the reset; `holding` and
 * `treasure_type` carry the changes.
 */
import { coerceField, defaults, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import type { ReplayRecorder } from './base';
import { ParticleEnv, particleActionSpace, type EntityDef, type WorldDef } from './particle-world';
import { agent, buildSpec, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "trsr"). */
const ENV_STREAM = 0x74727372;
export const CTC_HUNTERS = 6;
export const CTC_BANKS = 2;
const NA = CTC_HUNTERS + CTC_BANKS;
const NT = CTC_HUNTERS;
const TYPES = CTC_BANKS;
const HUNTER_SIZE = 0.05;
const BANK_SIZE = 0.075;
const TREASURE_SIZE = 0.025;
const DEAD = -999;
const SPAWN = 0.95;
/** seaborn's default ("deep") palette, the first two colours: what the code draws types with. */
export const CTC_TYPE_COLORS: readonly (readonly [number, number, number])[] = [
  [0.298, 0.447, 0.69],
  [0.867, 0.518, 0.322],
];
const HUNTER_COLOR: [number, number, number] = [0.85, 0.85, 0.85];
const OBS_HUNTER = 2 + 2 + TYPES + (NA - 1) * 8 + NT * 4;
const OBS_BANK = 2 + 2 + (NA - 1) * 8 + NT * 4;

export const treasureSchema = {
  episodeLimit: { type: 'int', default: 100, min: 1, max: 100_000, doc: 'Steps per episode (MAAC README and F2A2 §6: 100); a time limit, never a termination.' },
  physics: {
    type: 'enum',
    default: 'maac',
    values: ['maac', 'openai'],
    doc: "maac: the MAAC fork's forces (mass x accel action force, so every agent accelerates 2.25 per unit direction; mass-weighted contacts), what the paper ran; openai: OpenAI MPE's (action force = accel, heavy banks slower; plain contacts).",
  },
  shaping: { type: 'bool', default: true, doc: "The 0.1 x distance shaping terms of hunters and banks (the code's shape = True)." },
} as const satisfies Schema;

export interface TreasureConfig {
  readonly episodeLimit: number;
  readonly physics: 'maac' | 'openai';
  readonly shaping: boolean;
}

export function parseTreasureConfig(config: Values): TreasureConfig {
  const v: Values = defaults(treasureSchema);
  for (const [k, spec] of Object.entries(treasureSchema as Schema)) if (config[k] !== undefined) v[k] = coerceField(`env.${k}`, spec, config[k]);
  return v as unknown as TreasureConfig;
}

export function treasureWorld(physics: 'maac' | 'openai'): WorldDef {
  const agents: EntityDef[] = [];
  for (let i = 0; i < CTC_HUNTERS; i++) agents.push({ name: `hunter ${i}`, size: HUNTER_SIZE, movable: true, collide: true, silent: true, mass: 1, accel: 1.5, maxSpeed: 1, color: HUNTER_COLOR });
  for (let d = 0; d < CTC_BANKS; d++) {
    const c = CTC_TYPE_COLORS[d];
    agents.push({ name: `bank ${d}`, size: BANK_SIZE, movable: true, collide: true, silent: true, mass: 2.25, accel: 1.5, maxSpeed: 1, color: [c[0] * 0.35, c[1] * 0.35, c[2] * 0.35] });
  }
  const landmarks: EntityDef[] = Array.from({ length: NT }, (_, k) => ({ name: `treasure ${k}`, size: TREASURE_SIZE, movable: false, collide: false, color: CTC_TYPE_COLORS[0] }));
  return { agents, landmarks, dimC: 0, physics };
}

const METRICS: MetricSpec[] = [
  { key: 'mean_return', title: 'Mean episode reward (per agent)', role: 'return', headline: true, description: 'mean over the 8 agents of their episode return (F2A2 Tables 4-5, Fig. 5)' },
  { key: 'return_total', title: 'Return (all agents)', description: 'sum over the 8 agents of their episode return' },
  { key: 'treasures_collected', title: 'Treasures collected', headline: true, description: 'pick-ups by hunters over the episode' },
  { key: 'treasures_deposited', title: 'Treasures deposited', role: 'success', headline: true, description: 'deliveries to the bank of the right type over the episode' },
  { key: 'hunter_collisions', title: 'Hunter collisions', higherIsBetter: false, description: 'touching hunter pairs summed over the steps (each costs both hunters 5)' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

export function treasureSpec(cfg: TreasureConfig): EnvSpec {
  const world = treasureWorld(cfg.physics);
  const others = [features('other agents, nearest first: position - own, velocity, encoding', (NA - 1) * 8), features('treasures, nearest first: position - own, type one-hot', NT * 4)];
  const hunterLayout = [features('own position', 2), features('own velocity', 2), features('held type one-hot', TYPES), ...others];
  const bankLayout = [features('own position', 2), features('own velocity', 2), ...others];
  const agents = world.agents.map((e, i) => agent(e.name, i < CTC_HUNTERS ? 0 : 1, particleActionSpace(e, 0, 'discrete'), i < CTC_HUNTERS ? hunterLayout : bankLayout));
  const spec = buildSpec({
    id: 'treasure-collection',
    agents,
    teams: [team('hunters', [0, 1, 2, 3, 4, 5]), team('banks', [6, 7])],
    stateLayout: [
      features('agent positions', 2 * NA),
      features('agent velocities', 2 * NA),
      features("hunters' held type one-hot", CTC_HUNTERS * TYPES),
      features('treasure positions', 2 * NT),
      features('treasure types one-hot', NT * TYPES),
      features('treasure alive flags', NT),
    ],
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
  return spec;
}

export class TreasureCollectionVecEnv extends ParticleEnv {
  readonly config: TreasureConfig;
  /** [B, 6] type each hunter holds, -1 for none. */
  private readonly holding: Int32Array;
  /** [B, 6] treasure types. */
  private readonly ttype: Int32Array;
  /** [B, 6] 1 while a treasure is alive. */
  private readonly alive: Uint8Array;
  /** [B] 1 once this step's observation was written before `post_step` (see the header). */
  private readonly obsWritten: Uint8Array;
  private readonly collected: Int32Array;
  private readonly deposited: Int32Array;
  private readonly collisions: Int32Array;
  private readonly order = new Int32Array(NA);
  private readonly orderD = new Float64Array(NA);

  constructor(config: TreasureConfig, options: EnvOptions) {
    super(treasureSpec(config), treasureWorld(config.physics), 'discrete', options, ENV_STREAM);
    this.config = config;
    const B = this.numEnvs;
    this.holding = new Int32Array(B * CTC_HUNTERS).fill(-1);
    this.ttype = new Int32Array(B * NT);
    this.alive = new Uint8Array(B * NT);
    this.obsWritten = new Uint8Array(B);
    this.collected = new Int32Array(B);
    this.deposited = new Int32Array(B);
    this.collisions = new Int32Array(B);
    this.reset(0);
  }

  private dist(b: number, x: number, y: number): number {
    const o = b * this.E * 2;
    const dx = this.pos[o + 2 * x] - this.pos[o + 2 * y];
    const dy = this.pos[o + 2 * x + 1] - this.pos[o + 2 * y + 1];
    return Math.sqrt(dx * dx + dy * dy);
  }

  private touching(b: number, x: number, y: number, sx: number, sy: number): boolean {
    return this.dist(b, x, y) < sx + sy;
  }

  protected resetCopy(b: number, rng: Rng): void {
    this.placeUniform(b, rng, 0, NA);
    for (let k = 0; k < NT; k++) {
      this.ttype[b * NT + k] = rng.int(TYPES);
      this.placeUniform(b, rng, NA + k, NA + k + 1, -SPAWN, SPAWN);
      this.alive[b * NT + k] = 1;
    }
    this.holding.fill(-1, b * CTC_HUNTERS, (b + 1) * CTC_HUNTERS);
    this.obsWritten[b] = 0;
    this.collected[b] = 0;
    this.deposited[b] = 0;
    this.collisions[b] = 0;
  }

  protected afterPhysics(b: number, rew: Float64Array): boolean {
    const H = CTC_HUNTERS;
    const hold = this.holding;
    const hb = b * H;
    let global = 0;
    for (let k = 0; k < NT; k++) for (let a = 0; a < H; a++) if (hold[hb + a] < 0 && this.touching(b, a, NA + k, HUNTER_SIZE, TREASURE_SIZE)) global += 5;
    for (let d = 0; d < CTC_BANKS; d++) for (let a = 0; a < H; a++) if (hold[hb + a] === d && this.touching(b, H + d, a, BANK_SIZE, HUNTER_SIZE)) global += 5;
    const shape = this.config.shaping ? 0.1 : 0;
    let pairs = 0;
    for (let a = 0; a < H; a++) {
      let r = global;
      for (let c = 0; c < H; c++) {
        if (c === a || !this.touching(b, a, c, HUNTER_SIZE, HUNTER_SIZE)) continue;
        r -= 5;
        if (c > a) pairs++;
      }
      if (hold[hb + a] < 0) {
        let best = Infinity;
        for (let k = 0; k < NT; k++) best = Math.min(best, this.dist(b, NA + k, a));
        r -= shape * best;
      } else r -= shape * this.dist(b, H + hold[hb + a], a);
      rew[a] += r;
    }
    const o = b * this.E * 2;
    for (let d = 0; d < CTC_BANKS; d++) {
      const e = H + d;
      let best = Infinity;
      for (let a = 0; a < H; a++) if (hold[hb + a] === d) best = Math.min(best, this.dist(b, e, a));
      if (best === Infinity) {
        let mx = 0;
        let my = 0;
        for (let a = 0; a < H; a++) {
          mx += this.pos[o + 2 * a] - this.pos[o + 2 * e];
          my += this.pos[o + 2 * a + 1] - this.pos[o + 2 * e + 1];
        }
        best = Math.sqrt((mx / H) * (mx / H) + (my / H) * (my / H));
      }
      rew[e] += global - shape * best;
    }
    this.collisions[b] += pairs;
    // Observations see the world before post_step (the fork computes them first).
    this.writeObs(b);
    this.obsWritten[b] = 1;
    this.postStep(b);
    return false;
  }

  /** The fork's `post_step`: pick-ups and respawns, then deposits. */
  private postStep(b: number): void {
    const H = CTC_HUNTERS;
    const hb = b * H;
    const rng = this.rngs[b];
    const o = b * this.E * 2;
    for (let k = 0; k < NT; k++) {
      const t = b * NT + k;
      const e = NA + k;
      if (this.alive[t]) {
        for (let a = 0; a < H; a++) {
          if (this.holding[hb + a] >= 0 || !this.touching(b, e, a, TREASURE_SIZE, HUNTER_SIZE)) continue;
          this.alive[t] = 0;
          this.holding[hb + a] = this.ttype[t];
          this.pos[o + 2 * e] = DEAD;
          this.pos[o + 2 * e + 1] = DEAD;
          this.collected[b]++;
          break;
        }
      } else {
        // respawn_prob is 1: the code's uniform draw always passes, so no draw is spent on it.
        this.placeUniform(b, rng, e, e + 1, -SPAWN, SPAWN);
        this.ttype[t] = rng.int(TYPES);
        this.alive[t] = 1;
      }
    }
    for (let a = 0; a < H; a++) {
      const h = this.holding[hb + a];
      if (h >= 0 && this.touching(b, a, H + h, HUNTER_SIZE, BANK_SIZE)) {
        this.holding[hb + a] = -1;
        this.deposited[b]++;
      }
    }
  }

  /** Sort entities [from, from + n) other than `self` by (distance to self, index) into `order`. */
  private nearest(b: number, self: number, from: number, n: number): number {
    let m = 0;
    for (let e = from; e < from + n; e++) {
      if (e === self) continue;
      const d = this.dist(b, e, self);
      let j = m++;
      while (j > 0 && (this.orderD[j - 1] > d || (this.orderD[j - 1] === d && this.order[j - 1] > e))) {
        this.orderD[j] = this.orderD[j - 1];
        this.order[j] = this.order[j - 1];
        j--;
      }
      this.orderD[j] = d;
      this.order[j] = e;
    }
    return m;
  }

  private writeObs(b: number): void {
    const O = this.spec.obsSize;
    const H = CTC_HUNTERS;
    const pos = this.pos;
    const vel = this.vel;
    const obs = this.obs;
    const o = b * this.E * 2;
    for (let i = 0; i < NA; i++) {
      const w0 = (b * NA + i) * O;
      let w = w0;
      const px = pos[o + 2 * i];
      const py = pos[o + 2 * i + 1];
      obs[w++] = px;
      obs[w++] = py;
      obs[w++] = vel[o + 2 * i];
      obs[w++] = vel[o + 2 * i + 1];
      if (i < H) for (let t = 0; t < TYPES; t++) obs[w++] = this.holding[b * H + i] === t ? 1 : 0;
      const m = this.nearest(b, i, 0, NA);
      for (let s = 0; s < m; s++) {
        const j = this.order[s];
        obs[w++] = pos[o + 2 * j] - px;
        obs[w++] = pos[o + 2 * j + 1] - py;
        obs[w++] = vel[o + 2 * j];
        obs[w++] = vel[o + 2 * j + 1];
        for (let t = 0; t < TYPES; t++) obs[w++] = j >= H && j - H === t ? 1 : 0;
        for (let t = 0; t < TYPES; t++) obs[w++] = j < H && this.holding[b * H + j] === t ? 1 : 0;
      }
      const mt = this.nearest(b, i, NA, NT);
      for (let s = 0; s < mt; s++) {
        const e = this.order[s];
        obs[w++] = pos[o + 2 * e] - px;
        obs[w++] = pos[o + 2 * e + 1] - py;
        for (let t = 0; t < TYPES; t++) obs[w++] = this.ttype[b * NT + e - NA] === t ? 1 : 0;
      }
      for (; w < w0 + O; w++) obs[w] = 0;
    }
    const st = this.state;
    let s = b * this.spec.stateSize;
    for (let k = 0; k < 2 * NA; k++) st[s++] = pos[o + k];
    for (let k = 0; k < 2 * NA; k++) st[s++] = vel[o + k];
    for (let a = 0; a < H; a++) for (let t = 0; t < TYPES; t++) st[s++] = this.holding[b * H + a] === t ? 1 : 0;
    for (let k = 2 * NA; k < 2 * this.E; k++) st[s++] = pos[o + k];
    for (let k = 0; k < NT; k++) for (let t = 0; t < TYPES; t++) st[s++] = this.ttype[b * NT + k] === t ? 1 : 0;
    for (let k = 0; k < NT; k++) st[s++] = this.alive[b * NT + k];
  }

  protected observe(b: number, _full: boolean): void {
    // After a step the observation was written before post_step; after a reset it is due now.
    // After setState the saved `obs`/`state` rows were restored with `obsWritten`.
    if (this.obsWritten[b]) return;
    this.writeObs(b);
  }

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    let total = 0;
    for (let i = 0; i < NA; i++) total += this.episodeReturn(b, i);
    m.mean_return = total / NA;
    m.return_total = total;
    m.treasures_collected = this.collected[b];
    m.treasures_deposited = this.deposited[b];
    m.hunter_collisions = this.collisions[b];
    m.episode_length = this.stepCount[b];
  }

  protected override scenarioArrays() {
    return {
      holding: this.holding,
      ttype: this.ttype,
      alive: this.alive,
      obsWritten: this.obsWritten,
      collected: this.collected,
      deposited: this.deposited,
      collisions: this.collisions,
    };
  }

  protected override savedArrays() {
    // The rows written before post_step cannot be rebuilt from the post-step state: save them.
    return { ...super.savedArrays(), obsRows: this.obs, stateRows: this.state };
  }

  protected override scenarioMeta(b: number): Record<string, unknown> {
    return { renderer: 'world2d', hunters: CTC_HUNTERS, banks: CTC_BANKS, typeColors: CTC_TYPE_COLORS.map((c) => [...c]), treasureTypes: Array.from(this.ttype.subarray(b * NT, (b + 1) * NT)) };
  }

  protected override entityColor(b: number, e: number): readonly [number, number, number] {
    if (e >= NA) return CTC_TYPE_COLORS[this.ttype[b * NT + e - NA]];
    return super.entityColor(b, e);
  }

  protected override replayColumns(): readonly string[] {
    return [...super.replayColumns(), 'present', 'holding', 'treasure_type'];
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    super.recordFrame(b, rec);
    const p = rec.col('present');
    for (let e = 0; e < this.E; e++) p.push(e < NA || this.alive[b * NT + e - NA] ? 1 : 0);
    const h = rec.col('holding');
    for (let a = 0; a < CTC_HUNTERS; a++) h.push(this.holding[b * CTC_HUNTERS + a]);
    const t = rec.col('treasure_type');
    for (let k = 0; k < NT; k++) t.push(this.ttype[b * NT + k]);
  }
}

export const treasureCollectionEntry: EnvEntry = {
  id: 'treasure-collection',
  title: 'Cooperative Treasure Collection (MAAC fullobs_collect_treasure): 6 hunters, 2 banks',
  schema: treasureSchema,
  variants: [{ name: 'OpenAI MPE physics, no shaping', config: { physics: 'openai', shaping: false } }],
  spec: (config: Values) => treasureSpec(parseTreasureConfig(config)),
  create: (config: Values, options: EnvOptions) => new TreasureCollectionVecEnv(parseTreasureConfig(config), options),
};

export { OBS_BANK as CTC_OBS_BANK, OBS_HUNTER as CTC_OBS_HUNTER };
