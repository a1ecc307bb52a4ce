/**
 * MAgent "battle" (geek-ai/MAgent `battle.py`; shared/specs/environments.md §7, f2a2.md §5): two
 * armies of the "small" agent type on a walled square grid, each agent moving up to 2 cells or
 * attacking one of its 8 neighbours per step. The F2A2 paper's large-scale test (12 to 256
 * agents per side, transfer to 625).
 *
 * Vectorised over copies and agents in flat typed arrays (no per-agent objects): per copy a
 * padded occupancy grid (agent index, empty, wall or off-map), positions, hit points and alive
 * flags; agents 0..K-1 are the red army, K..2K-1 the blue army.
 *
 * Step order (§7.4): every alive agent's reward starts at -0.005; attacks in a random order
 * drawn from the copy's stream (an attacker killed earlier in the step does not attack); each
 * attack costs -0.1, hits an enemy for 2 hp and pays +0.2, or +5 instead when the hit takes the
 * enemy below 0 hp (it dies); teammates, empty cells, walls and agents already killed this step
 * are misses. Then every survivor recovers 0.1 hp (capped at 10). Then moves, in agent order
 * (red before blue), each jumping straight to its destination when that is an empty interior
 * cell. Then agents killed this step get exactly -0.1 (overwriting the step's reward) and leave
 * the grid. The episode terminates when an army has no survivors.
 * Choices where the spec is silent: an agent killed this step still holds its cell during the
 * moves (MAgent removes the dead in `clear_dead` after the step); dead agents' rows are zero,
 * their only legal action is "stay" and their reward is 0 afterwards.
 *
 * Observation of agent i (the minimap on by default as in geek-ai's battle config):
 * - a 13x13 view (radius 6 circle; cells outside it and off the map are 0), 'yxc' order, with
 *   channels [wall, own presence, own hp/10, own minimap, enemy presence, enemy hp/10, enemy
 *   minimap] (5 channels without the minimap: no minimap planes). A minimap plane is the
 *   army's alive agents binned onto a 13x13 coarse grid of the whole map, divided by the
 *   army's alive count; the agent's own coarse cell gets +1 on its own-army minimap.
 * - features: the binary agent id within its army (10 bits, lowest first), with the minimap its
 *   position x/size, y/size (2), then its last action one-hot (21) and last reward (1) as
 *   history blocks (geek-ai puts the position last; envObsSize must end before history).
 * Global state (MAgent2's, for centralised critics): size x size x 5 'xyc' [wall, red
 * presence, red hp/10, blue presence, blue hp/10].
 *
 * Placement (DESIGN CHOICE, f2a2.md §5): a near-square block per army, one agent every other
 * cell, 3 cells either side of the centre line (red left, blue right), vertically centred; which
 * agent takes which slot is shuffled per episode (the only random part of a reset). Map size by
 * default keeps geek-ai's density, round(5 sqrt(K)), grown to fit the blocks with a margin.
 *
 * Both armies are learner-controlled (self-play, as geek-ai's train_battle.py). Replays: renderer kind 'battle', columns x, y and hp10 (hp x 10,
 * -1 once dead) per agent per frame; attacks and moves are read from the generic `action`
 * column.
 */
import { ConfigError, typedValues, type Schema, type Values } from '../config/schema';
import type { Rng } from '../rng';
import { VecEnvBase, type ReplayRecorder } from './base';
import { agent, buildSpec, discrete, features, team } from './spaces';
import type { EnvEntry, EnvOptions, EnvSpec, MetricSpec, ObsBlock } from './types';

/** Stream tag mixed into the user seed for env copies (ASCII "btl1"). */
const ENV_STREAM = 0x62746c31;
/** Agent type "small" (§7.1). */
export const BATTLE_RULES = {
  maxHp: 10,
  damage: 2,
  recover: 0.1,
  stepReward: -0.005,
  attackPenalty: -0.1,
  attackReward: 0.2,
  killReward: 5,
  deadPenalty: -0.1,
} as const;
/** Replay colours of the red and blue armies. */
const TEAM_COLORS = ['#c0392b', '#2c6fbb'];
const VIEW_R = 6;
const VIEW = 2 * VIEW_R + 1;
const MINI = 13;
const ID_BITS = 10;
const GAP = 3;
/** Grid cell codes besides agent indices (>= 0). */
const EMPTY = -1;
const WALL = -2;
const OFFMAP = -3;

/** The 21 actions: 13 moves (row-major over dy, dx with dx^2 + dy^2 <= 4; index 6 stays), 8 attacks. */
export const BATTLE_MOVES: readonly (readonly [number, number])[] = (() => {
  const out: [number, number][] = [];
  for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (dx * dx + dy * dy <= 4) out.push([dx, dy]);
  return out;
})();
export const BATTLE_ATTACKS: readonly (readonly [number, number])[] = (() => {
  const out: [number, number][] = [];
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (dx !== 0 || dy !== 0) out.push([dx, dy]);
  return out;
})();
export const STAY = 6;
const NUM_ACTIONS = BATTLE_MOVES.length + BATTLE_ATTACKS.length;
const ACTION_NAMES = [
  ...BATTLE_MOVES.map(([dx, dy], k) => (k === STAY ? 'stay' : `move ${dx},${dy}`)),
  ...BATTLE_ATTACKS.map(([dx, dy]) => `attack ${dx},${dy}`),
];

export const battleSchema = {
  armySize: { type: 'int', default: 2, min: 1, max: 625, doc: 'Agents per army K (F2A2 §6.3: 12 to 256; transfer test 625). The default 2 is a smoke-test size (every view is 13x13x7) that keeps registry-wide tests cheap.' },
  mapSize: {
    type: 'int',
    default: 0,
    min: 0,
    max: 400,
    doc: "Side of the square map including its wall border; 0 = geek-ai's density, round(5 sqrt(K)), grown until both blocks fit.",
  },
  minimap: { type: 'bool', default: true, doc: "Minimap planes and the position features (geek-ai's battle config: on)." },
  episodeLimit: {
    type: 'int',
    default: 100,
    min: 1,
    max: 100_000,
    doc: 'Steps per episode before a time-limit truncation (geek-ai caps a round at ~550; 100 here for the smoke-test default).',
  },
} as const satisfies Schema;

export type BattleConfig = Values<typeof battleSchema>;

export function parseBattleConfig(config: Values): BattleConfig & { size: number } {
  const cfg = typedValues('env', battleSchema, config);
  const need = minMapSize(cfg.armySize);
  if (cfg.mapSize !== 0 && cfg.mapSize < need) throw new ConfigError('env.mapSize', `0 (auto) or at least ${need} for armySize ${cfg.armySize}`, cfg.mapSize);
  const size = cfg.mapSize !== 0 ? cfg.mapSize : Math.max(Math.round(5 * Math.sqrt(cfg.armySize)), need);
  return { ...cfg, size };
}

/** Block of one army: cols x rows slots, one every other cell. */
function blockShape(K: number): { cols: number; rows: number } {
  const cols = Math.ceil(Math.sqrt(K));
  return { cols, rows: Math.ceil(K / cols) };
}

/** Smallest map whose interior holds both blocks with the centre gap. */
export function minMapSize(K: number): number {
  const { cols, rows } = blockShape(K);
  // floor(S/2) - GAP - 2 cols >= 1 (left block inside the wall) and 2 rows + 1 <= S - 2.
  return Math.max(2 * (2 * cols + GAP + 1), 2 * rows + 3);
}

const METRICS: MetricSpec[] = [
  { key: 'red_win', title: 'Red wins', role: 'success', headline: true, description: 'red has more survivors than blue at the end (annihilation or time limit; a tie is 0)' },
  { key: 'red_return', title: 'Red return (per agent)', role: 'return', headline: true, description: "mean over red agents of the episode return" },
  { key: 'blue_return', title: 'Blue return (per agent)', headline: true, description: 'mean over blue agents of the episode return' },
  { key: 'red_kills', title: 'Kills by red', description: 'blue agents killed by red' },
  { key: 'blue_kills', title: 'Kills by blue', description: 'red agents killed by blue' },
  { key: 'red_alive', title: 'Red survivors', description: 'red agents alive at the end' },
  { key: 'blue_alive', title: 'Blue survivors', description: 'blue agents alive at the end' },
  { key: 'episode_length', title: 'Episode length', description: 'steps taken' },
];

function viewChannels(minimap: boolean): number {
  return minimap ? 7 : 5;
}

export function battleSpec(cfg: BattleConfig & { size: number }): EnvSpec {
  const K = cfg.armySize;
  const C = viewChannels(cfg.minimap);
  const layout: ObsBlock[] = [
    { kind: 'planes', name: `13x13 view (${cfg.minimap ? 'wall, own, own hp, own minimap, enemy, enemy hp, enemy minimap' : 'wall, own, own hp, enemy, enemy hp'})`, width: VIEW, height: VIEW, channels: C, order: 'yxc' },
    features('agent id in its army (binary)', ID_BITS),
    ...(cfg.minimap ? [features('own position (x, y) / map size', 2)] : []),
    features('last action (one-hot)', NUM_ACTIONS, 'history'),
    features('last reward', 1, 'history'),
  ];
  const action = discrete(ACTION_NAMES);
  const agents = Array.from({ length: 2 * K }, (_, i) => agent(i < K ? `red ${i}` : `blue ${i - K}`, i < K ? 0 : 1, action, layout));
  const idx = (lo: number) => Array.from({ length: K }, (_, i) => lo + i);
  return buildSpec({
    id: 'battle',
    agents,
    teams: [team('red', idx(0), { controller: 'learner' }), team('blue', idx(K), { controller: 'learner' })],
    stateLayout: [{ kind: 'planes', name: 'map (wall, red, red hp, blue, blue hp)', width: cfg.size, height: cfg.size, channels: 5, order: 'xyc' }],
    episodeLimit: cfg.episodeLimit,
    metricKeys: METRICS.map((m) => m.key),
    metrics: METRICS,
  });
}

/** One unit of a hand-built board: its cell and hit points; null = dead / absent. */
export interface BattleUnit {
  x: number;
  y: number;
  hp?: number;
}

export class BattleVecEnv extends VecEnvBase {
  readonly size: number;
  readonly armySize: number;
  private readonly C: number;
  private readonly minimap: boolean;
  /** Side of the padded grid (map plus VIEW_R off-map cells around it). */
  private readonly P: number;
  /** [B, P, P] agent index, EMPTY, WALL or OFFMAP. Rebuilt from pos/alive on restore. */
  private readonly grid: Int32Array;
  /** [B, N] padded-grid cell of each agent. */
  private readonly cell: Int32Array;
  private readonly hp: Float32Array;
  private readonly alive: Uint8Array;
  /** The contract's `VecEnv.agentAlive`: [B, N] 1 while the unit lives. */
  get agentAlive(): Uint8Array {
    return this.alive;
  }
  /** [B, N] last action (-1 before the first step) and last reward, for the history features. */
  private readonly lastAct: Int8Array;
  private readonly lastRew: Float32Array;
  /** [B, 2] kills by red, by blue in the current episode. */
  private readonly kills: Int32Array;
  /** Scratch. */
  private readonly order: Int32Array;
  private readonly killed: Uint8Array;
  private readonly mini: Float32Array;
  /** [2, 13 x 13 x C] the view block of a red / blue agent before its own cells (minimap planes only). */
  private readonly viewTemplate: Float32Array;
  /** View offsets inside the circle: padded-grid delta and obs offset of the cell. */
  private readonly viewGrid: Int32Array;
  private readonly viewObs: Int32Array;
  private readonly moveDelta: Int32Array;
  private readonly attackDelta: Int32Array;
  /** Empty template of a padded grid (walls and off-map cells). */
  private readonly blank: Int32Array;
  /** Block slots (padded-grid cells) per army. */
  private readonly slots: [Int32Array, Int32Array];
  private readonly slotOrder: Int32Array;

  constructor(cfg: BattleConfig & { size: number }, options: EnvOptions) {
    super(battleSpec(cfg), options, ENV_STREAM);
    const B = this.numEnvs;
    const N = this.N;
    const S = (this.size = cfg.size);
    this.armySize = cfg.armySize;
    this.minimap = cfg.minimap;
    this.C = viewChannels(cfg.minimap);
    const P = (this.P = S + 2 * VIEW_R);
    this.grid = new Int32Array(B * P * P);
    this.cell = new Int32Array(B * N);
    this.hp = new Float32Array(B * N);
    this.alive = new Uint8Array(B * N);
    this.lastAct = new Int8Array(B * N);
    this.lastRew = new Float32Array(B * N);
    this.kills = new Int32Array(B * 2);
    this.order = new Int32Array(N);
    this.killed = new Uint8Array(N);
    this.mini = new Float32Array(2 * MINI * MINI);
    this.viewTemplate = new Float32Array(2 * VIEW * VIEW * this.C);
    const vg: number[] = [];
    const vo: number[] = [];
    for (let dy = -VIEW_R; dy <= VIEW_R; dy++) {
      for (let dx = -VIEW_R; dx <= VIEW_R; dx++) {
        if (dx * dx + dy * dy > VIEW_R * VIEW_R) continue;
        vg.push(dy * P + dx);
        vo.push(((dy + VIEW_R) * VIEW + dx + VIEW_R) * this.C);
      }
    }
    this.viewGrid = Int32Array.from(vg);
    this.viewObs = Int32Array.from(vo);
    this.moveDelta = Int32Array.from(BATTLE_MOVES, ([dx, dy]) => dy * P + dx);
    this.attackDelta = Int32Array.from(BATTLE_ATTACKS, ([dx, dy]) => dy * P + dx);
    this.blank = new Int32Array(P * P).fill(OFFMAP);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) this.blank[(y + VIEW_R) * P + x + VIEW_R] = x === 0 || y === 0 || x === S - 1 || y === S - 1 ? WALL : EMPTY;
    }
    const K = this.armySize;
    const { cols, rows } = blockShape(K);
    const half = Math.floor(S / 2);
    const y0 = Math.floor((S - 2 * rows) / 2) + 1;
    const blockSlots = (x0: number) => {
      const out = new Int32Array(cols * rows);
      let k = 0;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[k++] = (y0 + 2 * r + VIEW_R) * P + x0 + 2 * c + VIEW_R;
      return out;
    };
    this.slots = [blockSlots(half - GAP - 2 * cols), blockSlots(half + GAP)];
    this.slotOrder = new Int32Array(cols * rows);
    this.reset(0);
  }

  // ------------------------------------------------------------------ reset

  protected resetCopy(b: number, rng: Rng): void {
    const K = this.armySize;
    const N = this.N;
    const so = this.slotOrder;
    for (let t = 0; t < 2; t++) {
      // Shuffle which agent takes which slot; the first K of the shuffled slots are used.
      for (let k = 0; k < so.length; k++) so[k] = k;
      for (let k = so.length - 1; k > 0; k--) {
        const j = rng.int(k + 1);
        const tmp = so[k];
        so[k] = so[j];
        so[j] = tmp;
      }
      const slots = this.slots[t];
      for (let i = 0; i < K; i++) this.cell[b * N + t * K + i] = slots[so[i]];
    }
    this.hp.fill(BATTLE_RULES.maxHp, b * N, (b + 1) * N);
    this.alive.fill(1, b * N, (b + 1) * N);
    this.lastAct.fill(-1, b * N, (b + 1) * N);
    this.lastRew.fill(0, b * N, (b + 1) * N);
    this.kills[2 * b] = 0;
    this.kills[2 * b + 1] = 0;
  }

  /**
   * Replace copy b's episode by a hand-built board (tests): one entry per agent, red first;
   * null = dead. Starts a fresh episode (step counter and returns zeroed).
   */
  setBoard(b: number, units: readonly (BattleUnit | null)[]): void {
    const N = this.N;
    const S = this.size;
    if (units.length !== N) throw new Error(`battle.setBoard: need ${N} entries (red then blue), got ${units.length}`);
    const seen = new Set<number>();
    for (let i = 0; i < N; i++) {
      const u = units[i];
      const r = b * N + i;
      this.lastAct[r] = -1;
      this.lastRew[r] = 0;
      if (u === null) {
        this.alive[r] = 0;
        this.hp[r] = 0;
        continue;
      }
      if (!Number.isInteger(u.x) || !Number.isInteger(u.y) || u.x < 1 || u.y < 1 || u.x > S - 2 || u.y > S - 2) throw new Error(`battle.setBoard: agent ${i} at (${u.x}, ${u.y}) is not an interior cell`);
      const c = (u.y + VIEW_R) * this.P + u.x + VIEW_R;
      if (seen.has(c)) throw new Error(`battle.setBoard: two agents at (${u.x}, ${u.y})`);
      seen.add(c);
      this.cell[r] = c;
      this.alive[r] = 1;
      this.hp[r] = u.hp ?? BATTLE_RULES.maxHp;
    }
    this.kills[2 * b] = 0;
    this.kills[2 * b + 1] = 0;
    this.finished[b] = 0;
    this.beginEpisode(b);
  }

  /** Position and hp of agent i in copy b (tests, tools); null once dead. */
  unit(b: number, i: number): { x: number; y: number; hp: number } | null {
    const r = b * this.N + i;
    if (!this.alive[r]) return null;
    const c = this.cell[r];
    return { x: (c % this.P) - VIEW_R, y: Math.floor(c / this.P) - VIEW_R, hp: this.hp[r] };
  }

  private rebuildGrid(b: number): void {
    const PP = this.P * this.P;
    const g = this.grid;
    g.set(this.blank, b * PP);
    const N = this.N;
    for (let i = 0; i < N; i++) if (this.alive[b * N + i]) g[b * PP + this.cell[b * N + i]] = i;
  }

  // ------------------------------------------------------------------ step

  protected stepCopy(b: number, actions: Int32Array, _box: Float32Array, rew: Float64Array): boolean {
    const N = this.N;
    const K = this.armySize;
    const R = BATTLE_RULES;
    const base = b * N;
    const g = this.grid;
    const gOff = b * this.P * this.P;
    const alive = this.alive;
    const hp = this.hp;
    const cell = this.cell;
    const killed = this.killed;
    const order = this.order;
    let nAtt = 0;
    for (let i = 0; i < N; i++) {
      const a = actions[base + i];
      if (!Number.isInteger(a) || a < 0 || a >= NUM_ACTIONS) throw new Error(`battle.step: action ${a} of copy ${b}, agent ${i} is not in 0..${NUM_ACTIONS - 1}`);
      killed[i] = 0;
      if (!alive[base + i]) continue;
      rew[i] = R.stepReward;
      if (a >= BATTLE_MOVES.length) order[nAtt++] = i;
    }
    // Attacks, in a random order.
    const rng = this.rngs[b];
    for (let k = nAtt - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      const t = order[k];
      order[k] = order[j];
      order[j] = t;
    }
    for (let k = 0; k < nAtt; k++) {
      const i = order[k];
      if (killed[i]) continue;
      rew[i] += R.attackPenalty;
      const v = g[gOff + cell[base + i] + this.attackDelta[actions[base + i] - BATTLE_MOVES.length]];
      if (v < 0 || killed[v] || v < K === i < K) continue;
      hp[base + v] -= R.damage;
      if (hp[base + v] < 0) {
        killed[v] = 1;
        alive[base + v] = 0;
        this.kills[2 * b + (i < K ? 0 : 1)]++;
        rew[i] += R.killReward;
      } else rew[i] += R.attackReward;
    }
    // Recovery of the survivors.
    for (let i = 0; i < N; i++) {
      const r = base + i;
      if (alive[r]) hp[r] = Math.min(R.maxHp, hp[r] + R.recover);
    }
    // Moves in agent order; the killed still hold their cells.
    for (let i = 0; i < N; i++) {
      const r = base + i;
      const a = actions[r];
      if (!alive[r] || a >= BATTLE_MOVES.length || a === STAY) continue;
      const from = cell[r];
      const to = from + this.moveDelta[a];
      if (g[gOff + to] !== EMPTY) continue;
      g[gOff + from] = EMPTY;
      g[gOff + to] = i;
      cell[r] = to;
    }
    let red = 0;
    let blue = 0;
    for (let i = 0; i < N; i++) {
      const r = base + i;
      if (killed[i]) {
        rew[i] = R.deadPenalty;
        g[gOff + cell[r]] = EMPTY;
        hp[r] = 0;
      } else if (alive[r]) {
        if (i < K) red++;
        else blue++;
      }
      // History features: the action an agent alive at the start of the step took, its reward.
      if (alive[r] || killed[i]) {
        this.lastAct[r] = actions[r];
        this.lastRew[r] = rew[i];
      }
    }
    return red === 0 || blue === 0;
  }

  // ------------------------------------------------------------------ observation

  protected observe(b: number, full: boolean): void {
    if (full) this.rebuildGrid(b);
    const N = this.N;
    const K = this.armySize;
    const O = this.spec.obsSize;
    const A = NUM_ACTIONS;
    const C = this.C;
    const S = this.size;
    const P = this.P;
    const obs = this.obs;
    const mask = this.actionMask;
    const g = this.grid;
    const gOff = b * P * P;
    const hp = this.hp;
    const alive = this.alive;
    const base = b * N;
    const inv = 1 / BATTLE_RULES.maxHp;
    const V = VIEW * VIEW * C;
    const mini = this.mini;
    const MM = MINI * MINI;
    const tpl = this.viewTemplate;
    if (this.minimap) {
      mini.fill(0);
      const cnt = [0, 0];
      for (let i = 0; i < N; i++) {
        if (!alive[base + i]) continue;
        const t = i < K ? 0 : 1;
        cnt[t]++;
        mini[t * MM + this.miniCell(this.cell[base + i])]++;
      }
      for (let t = 0; t < 2; t++) if (cnt[t] > 0) for (let k = 0; k < MM; k++) mini[t * MM + k] /= cnt[t];
      // Per army, the view block as it is before the agent's own cells are written: zeros but
      // the two minimap planes (own at channel 3, enemy at 6). One copy per agent then replaces
      // clearing the block and 2 x 169 strided writes.
      for (let t = 0; t < 2; t++) {
        const to = t * V;
        const mo = t * MM;
        const me = (1 - t) * MM;
        for (let k = 0; k < MM; k++) {
          tpl[to + k * C + 3] = mini[mo + k];
          tpl[to + k * C + 6] = mini[me + k];
        }
      }
    }
    const vg = this.viewGrid;
    const vo = this.viewObs;
    const nv = vg.length;
    for (let i = 0; i < N; i++) {
      const r = base + i;
      const o = r * O;
      const m = r * A;
      if (!alive[r]) {
        obs.fill(0, o, o + O);
        mask.fill(0, m, m + A);
        mask[m + STAY] = 1;
        continue;
      }
      mask.fill(1, m, m + A);
      const red = i < K;
      if (this.minimap) obs.set(red ? tpl.subarray(0, V) : tpl.subarray(V, 2 * V), o);
      else obs.fill(0, o, o + V);
      const c0 = this.cell[r];
      const own = 1;
      const enemy = this.minimap ? 4 : 3;
      for (let k = 0; k < nv; k++) {
        const v = g[gOff + c0 + vg[k]];
        if (v === EMPTY || v === OFFMAP) continue;
        const q = o + vo[k];
        if (v === WALL) obs[q] = 1;
        else {
          const ch = v < K === red ? own : enemy;
          obs[q + ch] = 1;
          obs[q + ch + 1] = hp[base + v] * inv;
        }
      }
      if (this.minimap) obs[o + this.miniCell(c0) * C + 3] += 1;
      let f = o + V;
      const id = red ? i : i - K;
      for (let bit = 0; bit < ID_BITS; bit++) obs[f++] = (id >> bit) & 1;
      if (this.minimap) {
        obs[f++] = ((c0 % P) - VIEW_R) / S;
        obs[f++] = (Math.floor(c0 / P) - VIEW_R) / S;
      }
      obs.fill(0, f, f + A);
      const la = this.lastAct[r];
      if (la >= 0) obs[f + la] = 1;
      f += A;
      obs[f] = this.lastRew[r];
    }
    // Global state: S x S x 5, 'xyc'.
    const st = this.state;
    const so = b * this.spec.stateSize;
    st.fill(0, so, so + this.spec.stateSize);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const v = g[gOff + (y + VIEW_R) * P + x + VIEW_R];
        if (v === EMPTY) continue;
        const q = so + (x * S + y) * 5;
        if (v === WALL) st[q] = 1;
        else {
          const ch = v < K ? 1 : 3;
          st[q + ch] = 1;
          st[q + ch + 1] = hp[base + v] * inv;
        }
      }
    }
  }

  /** Coarse 13x13 minimap cell of a padded-grid cell. */
  private miniCell(c: number): number {
    const S = this.size;
    const x = (c % this.P) - VIEW_R;
    const y = Math.floor(c / this.P) - VIEW_R;
    return Math.floor((y * MINI) / S) * MINI + Math.floor((x * MINI) / S);
  }

  // ------------------------------------------------------------------ episodes, replays, state

  protected episodeMetrics(b: number, _terminated: boolean, m: Record<string, number | null>): void {
    const N = this.N;
    const K = this.armySize;
    let red = 0;
    let blue = 0;
    let rr = 0;
    let br = 0;
    for (let i = 0; i < N; i++) {
      if (i < K) {
        red += this.alive[b * N + i];
        rr += this.episodeReturn(b, i);
      } else {
        blue += this.alive[b * N + i];
        br += this.episodeReturn(b, i);
      }
    }
    m.red_win = red > blue ? 1 : 0;
    m.red_return = rr / K;
    m.blue_return = br / K;
    m.red_kills = this.kills[2 * b];
    m.blue_kills = this.kills[2 * b + 1];
    m.red_alive = red;
    m.blue_alive = blue;
    m.episode_length = this.stepCount[b];
  }

  protected override replayMeta(): Record<string, unknown> {
    return {
      renderer: 'battle',
      mapSize: this.size,
      armySize: this.armySize,
      maxHp: BATTLE_RULES.maxHp,
      teams: ['red', 'blue'],
      teamColors: TEAM_COLORS,
      moves: BATTLE_MOVES,
      attacks: BATTLE_ATTACKS,
    };
  }

  protected override replayColumns(): readonly string[] {
    return ['x', 'y', 'hp10'];
  }

  protected override recordFrame(b: number, rec: ReplayRecorder): void {
    const N = this.N;
    const xs = rec.col('x');
    const ys = rec.col('y');
    const hs = rec.col('hp10');
    for (let i = 0; i < N; i++) {
      const r = b * N + i;
      const c = this.cell[r];
      xs.push((c % this.P) - VIEW_R);
      ys.push(Math.floor(c / this.P) - VIEW_R);
      hs.push(this.alive[r] ? Math.round(this.hp[r] * 10) : -1);
    }
  }

  protected override stateHeader(): Record<string, number> {
    return { armySize: this.armySize, mapSize: this.size };
  }

  protected savedArrays() {
    return { cell: this.cell, hp: this.hp, alive: this.alive, lastAct: this.lastAct, lastRew: this.lastRew, kills: this.kills };
  }
}

export const battleEntry: EnvEntry = {
  id: 'battle',
  title: 'MAgent battle (two armies on a grid)',
  schema: battleSchema,
  spec: (config: Values) => battleSpec(parseBattleConfig(config)),
  create: (config: Values, options: EnvOptions) => new BattleVecEnv(parseBattleConfig(config), options),
};
