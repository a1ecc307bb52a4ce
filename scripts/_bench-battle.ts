import { benchAgentSteps } from '../src-main/service/bench-registry';
import os from 'node:os';
const before = os.loadavg()[0];
const m = benchAgentSteps(Number(process.argv[2] ?? 5), (s) => console.error(s));
for (const x of m) console.log(`${x.name}: ${Math.round(x.value)} vs ${x.baselineName} ${Math.round(x.baseline)} (ratio ${(x.value / x.baseline).toFixed(2)}), load ${before.toFixed(1)}->${os.loadavg()[0].toFixed(1)}`);
