/**
 * The Workbench API's sweep methods: plan (cells, runs and an estimated time before launch),
 * launch on the local pool or Slurm, list with progress, collect, cancel. A host also collects
 * its active cluster sweeps every few seconds, so their runs and curves fill in live; each
 * collect that brings new rounds drops those runs from the series cache and tells clients.
 */
import type { RunStatus, SweepInfo, SweepPlanInfo, SweepRequest } from '../../src-shared/api';
import { sweptKeys } from '../../src-shared/config/sweep';
import type { Store, SweepRow } from '../db/store';
import type { Runner } from '../runner/runner';
import { collectSweep } from '../sweep/collect';
import { cancelSlurm, submitSlurm } from '../sweep/submit';
import { transportFor } from '../sweep/transport';
import { input, notFound } from './api-errors';
import { id, reqObj } from './api-input';
import { finishLocalSweep, launchSweepLocal, planSweep, type SweepPlan } from './sweep';

export interface SweepApiDeps {
  store: Store;
  runner: Runner;
  /** A run's rows changed under the series cache (new rounds collected). */
  invalidate(runId: number): void;
  changed(): void;
  /** Seconds between automatic collects of active cluster sweeps; 0 disables them. */
  collectEverySec?: number;
}

const ACTIVE = ['submitted', 'running'];

export function sweepApi(d: SweepApiDeps) {
  const { store, runner } = d;

  const plan = (req: SweepRequest): SweepPlan => {
    const r = reqObj('req', req);
    if (r.executor !== undefined && r.executor !== 'local' && r.executor !== 'slurm') throw input('executor', 'expected one of local, slurm');
    return planSweep(reqObj('spec', r.spec));
  };

  /** Seconds per (round x env) from recent finished runs of the same algorithm and env. */
  const pace = async (algoId: string, envId: string): Promise<{ sec: number; n: number } | null> => {
    const { rows } = await store.listRuns({ status: ['done'], algoId, envId, orderBy: 'id', desc: true, limit: 20 });
    const rates = rows
      .filter((r) => r.startedAt !== null && r.endedAt !== null && r.episodesDone > 0)
      .map((r) => (r.endedAt! - r.startedAt!) / 1000 / (r.episodesDone * Number(r.config.train.numEnvs)))
      .sort((a, b) => a - b);
    return rates.length ? { sec: rates[Math.floor(rates.length / 2)], n: rates.length } : null;
  };

  const info = async (row: SweepRow): Promise<SweepInfo> => {
    const runs = row.experimentId === null ? [] : await store.sweepRuns(row.experimentId);
    const counts: Record<RunStatus, number> = { queued: 0, running: 0, stopped: 0, done: 0, failed: 0 };
    let roundsDone = 0;
    let roundsTotal = 0;
    for (const x of runs) {
      const r = await store.getRun(x.id);
      if (!r) continue;
      counts[r.status]++;
      roundsDone += r.episodesDone;
      roundsTotal += r.episodesTotal;
    }
    return {
      id: row.id,
      name: row.name,
      experimentId: row.experimentId,
      executor: row.executor,
      state: row.state,
      message: row.message,
      jobId: row.jobId,
      location: row.location,
      sshHost: row.sshHost,
      axes: sweptKeys(row.spec),
      createdAt: row.createdAt,
      runIds: runs.map((x) => x.id),
      counts,
      roundsDone,
      roundsTotal,
    };
  };

  const requireSweep = async (v: unknown): Promise<SweepRow> => {
    const sid = id('id', v);
    const row = await store.getSweep(sid);
    if (!row) throw notFound(`sweep ${sid} does not exist`);
    return row;
  };

  const collect = async (row: SweepRow): Promise<void> => {
    const before = new Map<number, number>();
    const runs = row.experimentId === null ? [] : await store.sweepRuns(row.experimentId);
    for (const x of runs) before.set(x.id, (await store.getRun(x.id))?.episodesDone ?? 0);
    const rep = await collectSweep(store, transportFor(row.sshHost), row.location!);
    for (const x of runs) if ((await store.getRun(x.id))?.episodesDone !== before.get(x.id)) d.invalidate(x.id);
    if (rep.updated > 0) d.changed();
  };

  let collecting = false;
  const tick = async () => {
    if (collecting) return;
    collecting = true;
    try {
      for (const row of await store.listSweeps()) {
        if (row.executor !== 'slurm' || !row.location || !ACTIVE.includes(row.state)) continue;
        try {
          await collect(row);
        } catch (e) {
          // An unreachable host now may answer on the next tick; say why meanwhile.
          await store.updateSweep(row.id, { state: row.state, message: (e as Error).message.split('\n')[0] });
          d.changed();
        }
      }
    } finally {
      collecting = false;
    }
  };
  const every = d.collectEverySec ?? 10;
  const timer = every > 0 ? setInterval(() => void tick().catch(() => undefined), every * 1000) : null;
  timer?.unref();

  const methods = {
    async planSweep(req: SweepRequest): Promise<SweepPlanInfo> {
      const p = plan(req);
      let episodes = 0;
      let seconds = 0;
      let timed = 0;
      const bases = new Map<string, { sec: number; n: number } | null>();
      for (const r of p.runs) {
        const c = p.cells[r.cell].config;
        const n = Number(c.train.episodes) * Number(c.train.numEnvs);
        episodes += n;
        const k = `${c.algo.id}/${c.env.id}`;
        if (!bases.has(k)) bases.set(k, await pace(c.algo.id, c.env.id));
        const b = bases.get(k);
        if (b) {
          seconds += b.sec * n;
          timed++;
        }
      }
      const known = [...bases].filter(([, b]) => b);
      const slurm = (req as SweepRequest).executor === 'slurm';
      const estimate = timed === p.runs.length ? (slurm ? seconds : seconds / runner.maxParallel) : null;
      const basis =
        estimate === null
          ? `no finished ${[...bases.keys()].filter((k) => !bases.get(k)).join(', ')} run on this machine to time from`
          : `from ${known.map(([k, b]) => `${b!.n} finished ${k} run${b!.n === 1 ? '' : 's'}`).join(', ')} on this machine${slurm ? ', as one CPU-time total over the tasks' : `, ${runner.maxParallel} at once`}`;
      return {
        name: p.name,
        cells: p.cells.map((c) => ({ label: c.label, values: c.values })),
        seeds: p.seeds,
        runs: p.runs.length,
        episodes,
        estimatedSeconds: estimate,
        estimateBasis: basis,
      };
    },

    async launchSweep(req: SweepRequest) {
      const p = plan(req);
      if (req.executor === 'slurm') {
        const s = reqObj('slurm', req.slurm);
        if (typeof s.dir !== 'string' || !s.dir.startsWith('/')) throw input('slurm.dir', 'expected an absolute path to the sweep folder on the cluster');
        const rec = await submitSlurm(store, p, { ...(s as NonNullable<SweepRequest['slurm']>), sshHost: s.sshHost ? String(s.sshHost) : null });
        d.changed();
        return { sweepId: rec.sweepId, experimentId: rec.experimentId, runIds: rec.runIds };
      }
      const rec = await launchSweepLocal(store, runner, p);
      // The sweep's state follows its runs: settle it once the pool has finished them.
      void runner.idle().then(async () => {
        await finishLocalSweep(store, rec).catch(() => undefined);
        d.changed();
      });
      d.changed();
      return { sweepId: rec.sweepId, experimentId: rec.experimentId, runIds: rec.runIds };
    },

    async listSweeps(): Promise<SweepInfo[]> {
      return Promise.all((await store.listSweeps()).reverse().map(info));
    },

    async collectSweep(sweepId: number): Promise<SweepInfo> {
      const row = await requireSweep(sweepId);
      if (row.executor !== 'slurm' || !row.location) throw input('id', `sweep ${row.id} runs on this host's pool; its runs are already here`);
      await collect(row);
      return info((await store.getSweep(row.id))!);
    },

    async cancelSweep(sweepId: number): Promise<void> {
      const row = await requireSweep(sweepId);
      if (row.executor === 'local') {
        for (const rid of row.experimentId === null ? [] : (await store.sweepRuns(row.experimentId)).map((x) => x.id)) {
          const r = await store.getRun(rid);
          if (r && (r.status === 'queued' || r.status === 'running')) await runner.stop(rid);
        }
        await store.updateSweep(row.id, { state: 'cancelled', message: 'cancelled from the workbench' });
      } else {
        await cancelSlurm(store, row.id);
      }
      d.changed();
    },
  };

  return {
    methods,
    close(): void {
      if (timer) clearInterval(timer);
    },
  };
}
