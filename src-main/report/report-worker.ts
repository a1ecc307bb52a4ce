/**
 * Entry of the report thread (`report-thread.ts` starts it): the CPU-bound half of
 * comparisons and reports (grids, seeded bootstraps, summaries, HTML/SVG and LaTeX
 * rendering), so the Electron main process and the `cairn serve` event loop keep answering
 * while a report of hundreds of runs builds. The database is never opened here: the caller
 * reads the series (asynchronous I/O) and sends them.
 */
import { parentPort } from 'node:worker_threads';
import { compareSeries } from '../service/compare';
import { renderHtml } from './html';
import { renderLatex } from './latex';
import { ReportTaskImpl, type ReportJob, type ReportReply } from './report-tasks';

const tasks: ReportTaskImpl = {
  compare: ({ raw, names, req }) => compareSeries(raw, new Map(names), req),
  render: ({ data, format }) => (format === 'latex' ? renderLatex(data) : renderHtml(data)),
};

if (!parentPort) throw new Error('report-worker: start it with report-thread.ts');
const port = parentPort;
port.on('message', (job: ReportJob) => {
  let reply: ReportReply;
  try {
    const run = tasks[job.task] as (input: unknown) => unknown;
    reply = { id: job.id, result: run(job.input) };
  } catch (err) {
    const e = err as Error & { field?: string };
    reply = { id: job.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), field: e?.field } };
  }
  port.postMessage(reply);
});
