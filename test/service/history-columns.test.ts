/**
 * listRuns' chosen columns through the Workbench API (real SQLite file): the picker's
 * catalogue from the history's envs, learners and recorded metrics, and input errors that name
 * the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { Runner } from '../../src-main/runner/runner';
import { errorBody } from '../../src-main/service/api-errors';
import { createWorkbench, type Workbench } from '../../src-main/service/workbench';
import { getAlgo, getEnv } from '../../src-shared/registry';
import { trainSchema } from '../../src-shared/config/experiment';
import { tmpDir } from '../helpers/cli';
import { addRun, sampleConfig } from '../db/helpers';

const dir = tmpDir('cairn-cols-');
let store: Store;
let wb: Workbench;

beforeAll(async () => {
  store = await Store.open(path.join(dir, 'cols.db'));
  wb = createWorkbench({ store, runner: new Runner({ store, maxParallel: 1, backend: 'wasm' }), host: 'http', backend: 'wasm', version: '0.0.0-test' });
  const id = await addRun(store, { config: sampleConfig('manitokan', 'pg') });
  await store.appendMetrics(id, [
    { key: 'return_total', step: 1, episode: 1, wallTime: 1, value: 2 },
    { key: 'losses/policy', step: 1, episode: 1, wallTime: 1, value: 0.5 },
  ]);
});
afterAll(async () => {
  await wb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('history columns over the API', () => {
  it('offers the config fields of the envs and learners in the history, and the recorded metrics (episode metrics first)', async () => {
    const cat = await wb.historyColumns();
    const paths = cat.config.map((c) => c.path);
    for (const k of Object.keys(trainSchema)) expect(paths).toContain(`train.${k}`);
    for (const k of Object.keys(getEnv('manitokan')!.schema)) expect(paths).toContain(`env.${k}`);
    for (const k of Object.keys(getAlgo('pg')!.schema)) expect(paths).toContain(`algo.${k}`);
    expect(cat.metrics).toEqual(['return_total', 'losses/policy']);
  });

  it('returns the columns with each row and refuses bad ones naming the field', async () => {
    const { rows } = await wb.listRuns({ columns: ['config:algo.lr', 'metric:final:return_total'], sortColumn: 'metric:final:return_total' });
    expect(rows[0].columns).toEqual({ 'config:algo.lr': 0.0003, 'metric:final:return_total': 2 });
    const fail = async (q: object) => errorBody(await wb.listRuns(q as never).then(() => null, (e: unknown) => e));
    expect(await fail({ columns: ['algo.lr'] })).toMatchObject({ kind: 'input', field: 'columns[0]' });
    expect(await fail({ sortColumn: 'config:algo' })).toMatchObject({ kind: 'input', field: 'sortColumn' });
    expect(await fail({ columnFilters: [{ column: 'config:algo.lr', op: '~', value: 1 }] })).toMatchObject({ kind: 'input', field: 'columnFilters[0].op' });
    expect(await fail({ columnFilters: [{ column: 'config:algo.lr', op: '<', value: null }] })).toMatchObject({ field: 'columnFilters[0].value' });
  });
});
