/**
 * Layering (VS Code style): src-shared is pure TypeScript usable by main, workers and the
 * renderer, so it imports no Node built-ins, Electron, tfjs-node or DOM-only modules and reads
 * no entropy or clock (Math.random, Date.now, performance.now): a run is (config, seed), and
 * timing belongs to the hosts and the bench. The renderer never imports src-main.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, exts));
    else if (exts.some((x) => p.endsWith(x))) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  const out: string[] = [];
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

const NODE_BUILTINS = new Set(['fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'zlib', 'http', 'https', 'net', 'url', 'util', 'events', 'stream', 'module', 'process', 'buffer']);

const CLOCK_AND_ENTROPY: [RegExp, string][] = [
  [/\bMath\.random\s*\(/, 'Math.random'],
  [/\bDate\.now\s*\(/, 'Date.now'],
  [/\bperformance\.now\s*\(/, 'performance.now'],
];

export function sharedViolations(dir: string): string[] {
  const bad: string[] = [];
  for (const f of files(dir, ['.ts'])) {
    for (const spec of imports(f)) {
      if (
        spec.startsWith('node:') ||
        NODE_BUILTINS.has(spec) ||
        spec === 'electron' ||
        spec.startsWith('@tensorflow/tfjs-node') ||
        spec === 'sqlite3' ||
        spec === 'vue' ||
        spec.includes('src-main') ||
        spec.includes('src-renderer')
      ) {
        bad.push(`${path.relative(root, f)} imports ${spec}`);
      }
    }
    const src = fs.readFileSync(f, 'utf8');
    for (const [re, what] of CLOCK_AND_ENTROPY) if (re.test(src)) bad.push(`${path.relative(root, f)} uses ${what}`);
  }
  return bad;
}

describe('layering', () => {
  it('src-shared imports no Node, Electron, tfjs-node, sqlite, Vue or host code, and reads no clock or Math.random', () => {
    expect(sharedViolations(path.join(root, 'src-shared'))).toEqual([]);
  });

  it('the check itself catches a violation', () => {
    const tmp = fs.mkdtempSync(path.join(root, 'test', '.layering-'));
    try {
      fs.writeFileSync(path.join(tmp, 'a.ts'), "import fs from 'node:fs';\nexport const x = Math.random();\n");
      fs.writeFileSync(path.join(tmp, 'b.ts'), "import * as tf from '@tensorflow/tfjs-node';\n");
      fs.writeFileSync(path.join(tmp, 'c.ts'), 'export const t0 = Date.now();\nexport const t1 = performance.now();\n');
      expect(sharedViolations(tmp).sort()).toEqual(
        [
          `test/${path.basename(tmp)}/a.ts imports node:fs`,
          `test/${path.basename(tmp)}/a.ts uses Math.random`,
          `test/${path.basename(tmp)}/b.ts imports @tensorflow/tfjs-node`,
          `test/${path.basename(tmp)}/c.ts uses Date.now`,
          `test/${path.basename(tmp)}/c.ts uses performance.now`,
        ].sort(),
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the renderer never imports src-main', () => {
    const bad = files(path.join(root, 'src-renderer'), ['.ts', '.vue']).flatMap((f) =>
      imports(f)
        .filter((s) => s.includes('src-main') || s.startsWith('node:') || s === 'electron')
        .map((s) => `${path.relative(root, f)} imports ${s}`),
    );
    expect(bad).toEqual([]);
  });
});
