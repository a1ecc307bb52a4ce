/**
 * A researcher's own environment: a TypeScript (or JavaScript) module written against the env
 * contract (docs/env-modules.md), loaded at run time and added to the env registry.
 *
 * Loading a module runs its code with the user's rights, so only the user chooses one: the
 * CLI's `--env-module PATH` calls `loadEnvModule` (the desktop app's native file dialog is to come);
 * the HTTP host never does, and `checkEnvModuleField` refuses a config naming a module that
 * was not loaded that way in this process (a served page cannot make the host load a path).
 * The run records the module's absolute path in its config (`envModule`), so its worker and
 * a later `cairn resume` load the same file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../src-shared/config/schema';
import type { EnvEntry } from '../../src-shared/envs/types';
import { registerEnv } from '../../src-shared/registry';

/** Absolute module path -> the env entry it exports, for modules loaded in this process. */
const loaded = new Map<string, EnvEntry>();

/** An input problem with a module path (the CLI prints it as one line and exits 2). */
export class EnvModuleError extends ConfigError {}

function looksLikeEntry(v: unknown): v is EnvEntry {
  const e = v as Partial<EnvEntry> | null;
  return !!e && typeof e === 'object' && typeof e.id === 'string' && typeof e.create === 'function' && typeof e.spec === 'function' && !!e.schema;
}

/** The env entry a module exports: its default export, else its only export that is an entry. */
export function findEntry(mod: Record<string, unknown>): EnvEntry | undefined {
  const def = mod.default as Record<string, unknown> | undefined;
  if (looksLikeEntry(def)) return def;
  const candidates = Object.values(mod).filter(looksLikeEntry);
  if (candidates.length === 0 && def && typeof def === 'object') return Object.values(def).find(looksLikeEntry);
  return candidates.length === 1 ? candidates[0] : undefined;
}

/**
 * Load the module at `file`, register the env it exports and return it. `field` names the
 * input in errors (`--env-module`, `PATH`). Loading the same file again returns the same entry.
 */
export async function loadEnvModule(file: string, field = '--env-module'): Promise<EnvEntry> {
  const abs = path.resolve(file);
  const have = loaded.get(abs);
  if (have) return have;
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new EnvModuleError(field, 'a readable .ts or .js file', file);
  let mod: Record<string, unknown>;
  try {
    // tsx compiles TypeScript on the fly in any of our processes (CLI, worker, Electron main).
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as Record<string, unknown>;
  } catch (e) {
    throw new EnvModuleError(field, `${abs} failed to load: ${(e as Error).message.split('\n')[0]}`);
  }
  const entry = findEntry(mod);
  if (!entry) {
    throw new EnvModuleError(
      field,
      `${abs} exports no single env entry (an object with id, title, schema, spec(config) and create(config, options); see docs/env-modules.md); its exports: ${Object.keys(mod).join(', ') || 'none'}`,
    );
  }
  try {
    registerEnv(entry);
  } catch (e) {
    throw new EnvModuleError(field, (e as Error).message);
  }
  loaded.set(abs, entry);
  return entry;
}

/** The absolute path of the module that provided env `envId`, if one did in this process. */
export function envModuleOf(envId: string): string | undefined {
  for (const [file, e] of loaded) if (e.id === envId) return file;
  return undefined;
}

/** Every module loaded in this process. */
export function loadedEnvModules(): { path: string; envId: string }[] {
  return [...loaded].map(([p, e]) => ({ path: p, envId: e.id }));
}

/**
 * A config may name a module only if this process loaded it through a trusted path (CLI flag,
 * native file dialog); anything else is refused with the field named, never loaded.
 */
export function checkEnvModuleField(envModule: unknown): void {
  if (envModule === undefined) return;
  if (typeof envModule !== 'string' || !loaded.has(path.resolve(envModule))) {
    throw new ConfigError('envModule', 'a module loaded with --env-module in this process; a request cannot name one', envModule);
  }
}
