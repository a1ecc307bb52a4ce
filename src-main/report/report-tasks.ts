/** The messages between the report thread and its callers (types only, shared by both sides). */
import type { CompareResult } from '../../src-shared/api';
import type { CompareOptions, RawSeries } from '../service/compare';
import type { ReportData } from './report';

export interface ReportTaskMap {
  compare: { input: { raw: RawSeries[]; names: [number, string][]; req: CompareOptions }; output: CompareResult };
  render: { input: { data: ReportData; format: 'html' | 'latex' }; output: string };
}
export type ReportTask = keyof ReportTaskMap;

/** What the worker implements: one pure function per task. */
export type ReportTaskImpl = { [K in ReportTask]: (input: ReportTaskMap[K]['input']) => ReportTaskMap[K]['output'] };

export interface ReportJob {
  id: number;
  task: ReportTask;
  input: unknown;
}

export type ReportReply = { id: number; result: unknown } | { id: number; error: { name: string; message: string; field?: string } };
