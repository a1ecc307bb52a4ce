/**
 * Conformance checks of one environment entry against the env contract (src-shared/envs/
 * types.ts), as a library: `cairn env check PATH` prints the failures in plain words, and the
 * tests run it over every registered env. Generic over EnvEntry: nothing here knows a task's
 * rules. Each check catches what the env throws, so one broken part reports and the rest
 * still run.
 */
import { defaults, resolve } from './config/schema';
import { Rng } from './rng';
import { specProblems } from './envs/spaces';
import type { EnvEntry, EnvSpec, EpisodeRecord, VecEnv } from './envs/types';

export interface CheckResult {
  /** What was checked, e.g. "seeded resets are reproducible". */
  name: string;
  /** Plain-words problems; empty when the check passed. */
  problems: string[];
}

/** How hard to push: copies and steps of the random-play checks. */
export interface CheckOptions {
  numEnvs?: number;
  /** Random-play steps (at least 3 episode limits are played regardless). */
  steps?: number;
}

/** Uniform random actions: a legal discrete action per discrete agent, a point of the box per box agent. */
export function randomActions(env: VecEnv, actions: Int32Array, box: Float32Array, rng: Rng): void {
  const s = env.spec;
  const A = s.numActions;
  const N = s.numAgents;
  for (let r = 0; r < env.numEnvs * N; r++) {
    const space = s.agents[r % N].action;
    if (space.kind === 'discrete') {
      let n = 0;
      for (let a = 0; a < A; a++) n += env.actionMask[r * A + a];
      let k = n > 0 ? rng.int(n) : 0;
      actions[r] = 0;
      for (let a = 0; a < A; a++) {
        if (env.actionMask[r * A + a] && k-- === 0) {
          actions[r] = a;
          break;
        }
      }
    } else {
      actions[r] = 0;
      for (let k = 0; k < space.size; k++) box[r * s.boxSize + k] = space.low[k] + rng.float() * (space.high[k] - space.low[k]);
    }
  }
}

function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** Mask problems: 0/1 entries only; a discrete agent has a legal action within its own n and none past it; box agents have none. */
function maskProblems(env: VecEnv): string[] {
  const s = env.spec;
  const A = s.numActions;
  const N = s.numAgents;
  for (let r = 0; r < env.numEnvs * N; r++) {
    if (env.finished[Math.floor(r / N)]) continue;
    const space = s.agents[r % N].action;
    const own = space.kind === 'discrete' ? space.n : 0;
    let legal = 0;
    for (let a = 0; a < A; a++) {
      const m = env.actionMask[r * A + a];
      if (m !== 0 && m !== 1) return [`actionMask holds ${m} for copy ${Math.floor(r / N)}, agent ${r % N}, action ${a} (only 0 or 1 are allowed)`];
      if (m && a >= own) return [`actionMask allows action ${a} of agent ${r % N}, which has only ${own} action${own === 1 ? '' : 's'}`];
      legal += m;
    }
    if (space.kind === 'discrete' && legal === 0) return [`agent ${r % N} of copy ${Math.floor(r / N)} has no legal action`];
  }
  return [];
}

function bufferProblems(env: VecEnv, when: string): string[] {
  const out = maskProblems(env).map((p) => `${when}: ${p}`);
  for (const [name, buf] of [
    ['obs', env.obs],
    ['state', env.state],
    ['rewards', env.rewards],
    ['finalObs', env.finalObs],
  ] as const) {
    const i = firstNonFinite(buf);
    if (i >= 0) out.push(`${when}: ${name}[${i}] is ${buf[i]} (every value must be a finite number)`);
  }
  const s = env.spec;
  for (let b = 0; b < env.numEnvs; b++) {
    for (let i = 0; i < s.numAgents; i++) {
      const row = (b * s.numAgents + i) * s.obsSize;
      for (let k = s.agents[i].obsSize; k < s.obsSize; k++) {
        if (env.obs[row + k] !== 0) {
          out.push(`${when}: agent ${i} (${s.agents[i].name}) writes obs value ${k}, past its obsSize ${s.agents[i].obsSize} (the padding must stay 0)`);
          return out;
        }
      }
    }
  }
  return out;
}

function shapeProblems(env: VecEnv, B: number): string[] {
  const s = env.spec;
  const N = s.numAgents;
  const out: string[] = [];
  const want: [string, ArrayLike<number>, number, string][] = [
    ['obs', env.obs, B * N * s.obsSize, 'Float32Array'],
    ['finalObs', env.finalObs, B * N * s.obsSize, 'Float32Array'],
    ['state', env.state, B * s.stateSize, 'Float32Array'],
    ['actionMask', env.actionMask, B * N * s.numActions, 'Uint8Array'],
    ['rewards', env.rewards, B * N, 'Float32Array'],
    ['dones', env.dones, B, 'Uint8Array'],
    ['truncated', env.truncated, B, 'Uint8Array'],
    ['finished', env.finished, B, 'Uint8Array'],
  ];
  if (env.numEnvs !== B) out.push(`numEnvs is ${env.numEnvs}, asked for ${B}`);
  for (const [name, buf, len, type] of want) {
    if (!buf || buf.constructor?.name !== type) out.push(`${name} must be a ${type}`);
    else if (buf.length !== len) out.push(`${name} has length ${buf.length}; the spec implies ${len}`);
  }
  return out;
}

function metricProblems(spec: EnvSpec, episodes: readonly EpisodeRecord[]): string[] {
  const out: string[] = [];
  for (const e of episodes) {
    const keys = Object.keys(e.metrics);
    if (keys.join() !== spec.metricKeys.join()) {
      out.push(`an episode reported metrics [${keys.join(', ')}] but the spec declares [${spec.metricKeys.join(', ')}] (same names, same order)`);
      break;
    }
    const bad = Object.entries(e.metrics).find(([, v]) => !(v === null || Number.isFinite(v)));
    if (bad) {
      out.push(`metric ${bad[0]} is ${bad[1]} (a finite number, or null for "no value")`);
      break;
    }
  }
  return out;
}

function run(name: string, body: () => string[]): CheckResult {
  try {
    return { name, problems: body() };
  } catch (e) {
    return { name, problems: [`threw: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

/** Every check, in order; a passing env has no problems in any. */
export function checkEnv(entry: EnvEntry, opts: CheckOptions = {}): CheckResult[] {
  const B = opts.numEnvs ?? 4;
  const results: CheckResult[] = [];
  const entryProblems: string[] = [];
  if (typeof entry?.id !== 'string' || !/^[a-z0-9-]+$/.test(entry.id)) entryProblems.push(`id must be kebab-case (a-z, 0-9, -), got ${JSON.stringify(entry?.id)}`);
  if (typeof entry?.title !== 'string' || entry.title.length === 0) entryProblems.push('title must be a non-empty string');
  if (typeof entry?.spec !== 'function') entryProblems.push('spec(config) must be a function');
  if (typeof entry?.create !== 'function') entryProblems.push('create(config, options) must be a function');
  if (!entry?.schema || typeof entry.schema !== 'object') entryProblems.push('schema must be an object of fields');
  else for (const [k, f] of Object.entries(entry.schema)) if (!f?.doc) entryProblems.push(`schema field ${k} has no doc line`);
  results.push({ name: 'the entry has an id, a title, a documented schema, spec() and create()', problems: entryProblems });
  if (entryProblems.some((p) => !p.startsWith('schema field'))) return results;

  let config = {} as ReturnType<typeof defaults>;
  results.push(
    run('schema defaults resolve', () => {
      config = defaults(entry.schema);
      const again = resolve('env', entry.schema, {});
      return JSON.stringify(again) === JSON.stringify(config) ? [] : ['resolving an empty config does not give the schema defaults'];
    }),
  );
  let spec: EnvSpec | null = null;
  results.push(
    run('the spec is consistent', () => {
      spec = entry.spec(config);
      const out = specProblems(spec);
      if (spec.id !== entry.id) out.push(`spec.id is ${JSON.stringify(spec.id)} but the entry's id is ${JSON.stringify(entry.id)}`);
      const env = entry.create(config, { numEnvs: 2 });
      if (JSON.stringify(env.spec) !== JSON.stringify(spec)) out.push('create(config).spec differs from spec(config)');
      return out;
    }),
  );
  if (!spec) return results;
  const s: EnvSpec = spec;
  const N = s.numAgents;

  results.push(
    run('buffers have the sizes the spec implies, and valid values after reset', () => {
      const env = entry.create(config, { numEnvs: B });
      env.reset(1);
      const out = shapeProblems(env, B);
      return out.length ? out : bufferProblems(env, 'after reset');
    }),
  );

  const steps = Math.max(opts.steps ?? 1000, 3 * s.episodeLimit);
  results.push(
    run(`random play for ${steps} steps keeps actions, masks and episode ends valid`, () => {
      const env = entry.create(config, { numEnvs: B, autoReset: true });
      env.reset(3);
      const rng = new Rng(17);
      const actions = new Int32Array(B * N);
      const box = new Float32Array(B * N * s.boxSize);
      const len = new Array<number>(B).fill(0);
      const ended: number[] = [];
      const episodes: EpisodeRecord[] = [];
      for (let t = 0; t < steps; t++) {
        randomActions(env, actions, box, rng);
        env.step(actions, s.boxSize > 0 ? box : undefined);
        for (let b = 0; b < B; b++) {
          len[b]++;
          if (env.finished[b]) return [`step ${t}: copy ${b} is left finished although auto-reset is on`];
          if (env.dones[b]) {
            if (len[b] > s.episodeLimit) return [`copy ${b} ran ${len[b]} steps, past episodeLimit ${s.episodeLimit}`];
            if (env.truncated[b] && len[b] !== s.episodeLimit) return [`copy ${b} was truncated after ${len[b]} steps; truncation is only for the time limit (${s.episodeLimit})`];
            ended.push(b);
            len[b] = 0;
          } else if (env.truncated[b]) return [`step ${t}: copy ${b} is marked truncated without being done`];
        }
        const bad = bufferProblems(env, `after step ${t}`);
        if (bad.length) return bad;
        episodes.push(...env.drainEpisodes());
      }
      const out: string[] = [];
      if (ended.length === 0) out.push(`no episode ended in ${steps} steps (episodeLimit is ${s.episodeLimit})`);
      if (episodes.map((e) => e.envIndex).join() !== ended.join()) {
        out.push(`drainEpisodes reported ${episodes.length} episodes for ${ended.length} episode ends (one record per end, in order, with its copy index)`);
      }
      return out.concat(metricProblems(s, episodes));
    }),
  );

  results.push(
    run('without auto-reset, finished copies wait (obs kept, reward 0) until resetFinished', () => {
      const env = entry.create(config, { numEnvs: B, autoReset: false });
      env.reset(4);
      const rng = new Rng(5);
      const actions = new Int32Array(B * N);
      const box = new Float32Array(B * N * s.boxSize);
      const row = N * s.obsSize;
      for (let t = 0; t < s.episodeLimit; t++) {
        const frozen = Array.from(env.finished);
        const before = Float32Array.from(env.obs);
        randomActions(env, actions, box, rng);
        env.step(actions, s.boxSize > 0 ? box : undefined);
        for (let b = 0; b < B; b++) {
          if (!frozen[b]) continue;
          for (let k = b * row; k < (b + 1) * row; k++) if (env.obs[k] !== before[k]) return [`copy ${b} changed its observation while finished`];
          if (env.dones[b]) return [`copy ${b} reported done again while finished`];
          for (let i = 0; i < N; i++) if (env.rewards[b * N + i] !== 0) return [`copy ${b} paid a reward while finished`];
        }
      }
      const out: string[] = [];
      const waiting = Array.from(env.finished).filter((f) => f === 1).length;
      if (waiting !== B) out.push(`after episodeLimit steps ${B - waiting} of ${B} copies have not finished`);
      const n = env.drainEpisodes().length;
      if (n !== B) out.push(`drainEpisodes gave ${n} episodes for ${B} finished copies`);
      env.resetFinished();
      if (Array.from(env.finished).some((f) => f !== 0)) out.push('resetFinished left copies finished');
      return out.concat(bufferProblems(env, 'after resetFinished'));
    }),
  );

  const trace = (seed: number) => {
    const env = entry.create(config, { numEnvs: B });
    env.reset(seed);
    const rng = new Rng(9);
    const actions = new Int32Array(B * N);
    const box = new Float32Array(B * N * s.boxSize);
    const out: number[] = [...env.obs];
    for (let t = 0; t < Math.min(300, 2 * s.episodeLimit + 5); t++) {
      randomActions(env, actions, box, rng);
      env.step(actions, s.boxSize > 0 ? box : undefined);
      out.push(...env.obs, ...env.rewards, ...env.dones, ...env.state);
    }
    return JSON.stringify({ out, episodes: env.drainEpisodes() });
  };
  results.push(
    run('the same seed and actions give the same episodes; another seed differs', () => {
      const a = trace(21);
      const out: string[] = [];
      if (trace(21) !== a) out.push('two runs with seed 21 and the same actions differ (use only the seeded streams, never Math.random or the clock)');
      // An env that draws nothing at random (a matrix game) says so, and may repeat across seeds.
      if (!entry.deterministic && trace(22) === a) out.push('seeds 21 and 22 give identical episodes (reset(seed) must seed every copy; an env that draws nothing at random sets deterministic: true)');
      return out;
    }),
  );

  results.push(
    run('getState/setState through JSON continues identically', () => {
      const a = entry.create(config, { numEnvs: B });
      a.reset(6);
      const rng = new Rng(1);
      const actions = new Int32Array(B * N);
      const box = new Float32Array(B * N * s.boxSize);
      for (let t = 0; t < Math.min(123, s.episodeLimit + 3); t++) {
        randomActions(a, actions, box, rng);
        a.step(actions, s.boxSize > 0 ? box : undefined);
      }
      a.drainEpisodes();
      const b = entry.create(config, { numEnvs: B });
      b.setState(JSON.parse(JSON.stringify(a.getState())));
      const ra = new Rng(2);
      const rb = new Rng(2);
      for (let t = 0; t < Math.min(400, 2 * s.episodeLimit + 5); t++) {
        randomActions(a, actions, box, ra);
        a.step(actions, s.boxSize > 0 ? box : undefined);
        const oa = JSON.stringify([...a.obs, ...a.rewards, ...a.dones]);
        randomActions(b, actions, box, rb);
        b.step(actions, s.boxSize > 0 ? box : undefined);
        if (JSON.stringify([...b.obs, ...b.rewards, ...b.dones]) !== oa) return [`a copy restored from getState() diverged ${t + 1} steps later (getState must hold every RNG stream and counter)`];
      }
      return JSON.stringify(b.drainEpisodes()) === JSON.stringify(a.drainEpisodes()) ? [] : ['the restored env reported different episodes'];
    }),
  );
  return results;
}

/** The failed checks only, as "check: problem" lines. */
export function checkFailures(results: readonly CheckResult[]): string[] {
  return results.flatMap((r) => r.problems.map((p) => `${r.name}: ${p}`));
}
