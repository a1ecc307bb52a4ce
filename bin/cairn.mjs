#!/usr/bin/env node
// Entry of the `cairn` command: runs the TypeScript CLI through tsx, so a fresh
// `npm install` is enough (no build step before the first `npx cairn`).
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src-main/cli/main.ts');
await run(process.argv.slice(2));
