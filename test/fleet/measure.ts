/**
 * How the fleet numbers in README.md were measured:
 *   npx tsx test/fleet/measure.ts [HOSTS=50] [NAME=measure]
 * Image build (only if not cached), up, per-host memory, reset of every host, down.
 */
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { startFleet } from './fleet.js';
import { recipeHash, CACHE_DIR, ensureImage } from './image.js';
import { hostPids } from './hosts.js';
import { netnsName } from './naming.js';
import { run } from './run.js';
import { existsSync } from 'node:fs';

const count = Number(process.argv[2] ?? 50);
const name = process.argv[3] ?? 'measure';
const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
const kib = (pid: number, field: string) => {
  const m = readFileSync(`/proc/${pid}/${field === 'Pss' ? 'smaps_rollup' : 'status'}`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
};

let t = Date.now();
const cached = existsSync(`${CACHE_DIR}/image-${recipeHash()}/recipe.json`);
await ensureImage((m) => console.error(m));
console.log(`image: ${cached ? 'cached' : `built in ${secs(t)}`}`);

t = Date.now();
const fleet = await startFleet({ hosts: count, name });
console.log(`up ${count}: ${secs(t)}`);
try {
  const pids = fleet.hosts.flatMap((h) => hostPids(netnsName(name, h.name)));
  const rss = pids.reduce((s, p) => s + kib(p, 'VmRSS'), 0);
  const pss = pids.reduce((s, p) => s + kib(p, 'Pss'), 0);
  const df = (await run(['df', '-k', '--output=used', `/run/plumb-fleet/${name}/mnt`])).stdout.trim().split('\n')[1];
  console.log(
    `per host: processes (init, sshd, launchers) RSS ${(rss / count / 1024).toFixed(1)} MiB, PSS ${(pss / count / 1024).toFixed(1)} MiB, tmpfs ${(Number(df) / count).toFixed(0)} KiB`,
  );
  t = Date.now();
  const limit = pLimit(8);
  await Promise.all(fleet.hosts.map((h) => limit(() => fleet.reset(h.name))));
  console.log(`reset ${count}: ${secs(t)}`);
} finally {
  t = Date.now();
  await fleet.stop();
  console.log(`down ${count}: ${secs(t)}`);
}
