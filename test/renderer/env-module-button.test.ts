// @vitest-environment happy-dom
/**
 * Issue 7, item 6 on the renderer side: the "Open env module…" button of the new-experiment
 * form exists only when the host offers the dialog (`info().capabilities`), and a module it
 * loads becomes the form's env.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { HostInfo, SchemaCatalogue } from '../../src-shared/api';
import { setApi } from '../../src-renderer/api/use-api';
import EnvModuleButton from '../../src-renderer/components/form/EnvModuleButton.vue';
import { useExperimentFormStore } from '../../src-renderer/stores/experiment-form';
import { fakeClient } from './fake-client';

const info = (capabilities?: HostInfo['capabilities']): HostInfo => ({ version: 't', host: 'http', dbFile: 'x.db', backend: 'cpu', cores: 2, maxParallel: 1, ...(capabilities ? { capabilities } : {}) });
const schema = { episodeLimit: { type: 'int', default: 10, min: 1, max: 100, doc: 'Steps.' } } as const;
const catalogue = (withModule: boolean): SchemaCatalogue => ({
  envs: [{ id: 'builtin', title: 'Built-in', schema }, ...(withModule ? [{ id: 'coin-guess', title: 'Coin guess', schema }] : [])],
  algos: [{ id: 'random', title: 'Random', schema: {} }],
  train: {},
});

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => setApi(null));

describe('EnvModuleButton', () => {
  it('is absent when the host does not offer the dialog (cairn serve, older hosts)', async () => {
    for (const caps of [undefined, [] as const]) {
      setApi(fakeClient({ info: async () => info(caps as never) }));
      const w = mount(EnvModuleButton);
      await flushPromises();
      expect(w.find('[data-testid="open-env-module"]').exists()).toBe(false);
    }
  });

  it('is shown by the desktop host; the loaded module becomes the form’s env', async () => {
    let loaded = false;
    const api = fakeClient({
      info: async () => info(['openEnvModule']),
      openEnvModule: vi.fn(async () => {
        loaded = true;
        return { envId: 'coin-guess', title: 'Coin guess', path: '/home/r/coin.ts' };
      }),
      listPresets: async () => [],
      getSchemas: async () => catalogue(loaded),
      resolveConfig: async () => ({ ok: true, config: { env: { id: 'builtin', episodeLimit: 10 }, algo: { id: 'random' }, train: {} } as never, diff: [] }),
    });
    setApi(api);
    const form = useExperimentFormStore();
    await form.load();
    const w = mount(EnvModuleButton);
    await flushPromises();
    await w.get('[data-testid="open-env-module"]').trigger('click');
    await flushPromises();
    expect(api.openEnvModule).toHaveBeenCalledWith();
    expect(form.draft.env).toEqual({ id: 'coin-guess', episodeLimit: 10 });
    expect(form.catalogue!.envs.map((e) => e.id)).toContain('coin-guess');
  });

  it('shows the host’s refusal next to the button', async () => {
    setApi(
      fakeClient({
        info: async () => info(['openEnvModule']),
        openEnvModule: async () => Promise.reject(new Error('file: /x.ts exports no single env entry')),
      }),
    );
    const w = mount(EnvModuleButton);
    await flushPromises();
    await w.get('[data-testid="open-env-module"]').trigger('click');
    await flushPromises();
    expect(w.get('[data-testid="env-module-error"]').text()).toBe('file: /x.ts exports no single env entry');
  });
});
