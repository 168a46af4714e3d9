/**
 * How fast `plumb validate` answers for large input: a 10 MB playbook (refused
 * by size), and a playbook just under the 1 MiB limit (fully parsed, validated
 * and rendered for every host). Prints medians of wall time, in-process and as
 * a child process (`node bin/plumb.js`, which includes Node's start-up).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/main.js';
import { MAX_YAML_BYTES } from '../src/source/yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-bench-'));
const task = '    - name: "task {{ inventory_hostname }}"\n      copy: { dest: /etc/motd, content: "hello {{ relay_host }}\\n", mode: "0644" }\n';
const head = '- hosts: mailers\n  vars:\n    relay_host: smtp.example.com\n  tasks:\n';
const big = join(dir, 'big.yaml');
writeFileSync(big, head + task.repeat(Math.ceil((10 * 1024 * 1024) / task.length)));
const nearLimit = join(dir, 'near-limit.yaml');
writeFileSync(nearLimit, head + task.repeat(Math.floor((MAX_YAML_BYTES - head.length - 100) / task.length)));

const quiet = { stdout: () => {}, stderr: () => {}, env: process.env };
async function inProcess(file: string): Promise<[number, number]> {
  const t = performance.now();
  const code = await run(['validate', file, '-i', 'inventory.example.yaml'], quiet);
  return [performance.now() - t, code];
}
function child(file: string): [number, number] {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/plumb.js', 'validate', file, '-i', 'inventory.example.yaml'], { encoding: 'utf8' });
  return [performance.now() - t, r.status ?? -1];
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const [label, file] of [
  ['10 MB playbook', big],
  ['playbook just under the size limit', nearLimit],
] as const) {
  const a: number[] = [];
  const b: number[] = [];
  let codes = '';
  for (let i = 0; i < 5; i++) {
    const [ms, code] = await inProcess(file);
    a.push(ms);
    codes += code;
  }
  for (let i = 0; i < 3; i++) b.push(child(file)[0]);
  console.log(`${label}: in-process ${median(a).toFixed(0)} ms, node bin/plumb.js ${median(b).toFixed(0)} ms (exit codes ${codes})`);
}
rmSync(dir, { recursive: true, force: true });
