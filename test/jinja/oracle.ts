/**
 * Ansible as the oracle for the Jinja cases: one Python process
 * (test/oracle/jinja_render.py) renders every case with ansible-core's Templar.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { filesDir, repoRoot, type JinjaCase } from './cases.js';

export type OracleResult = { ok: true; text: string } | { ok: true; value: unknown } | { ok: false; error: string; message: string };

/** ansible's own interpreter (its #! line): the python3 first on PATH may not have Ansible. */
export function ansiblePython(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v ansible'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const first = readFileSync(which.stdout.trim(), 'utf8').split('\n')[0];
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) return undefined;
  const python = m[1].endsWith('/env') ? m[2] : m[1];
  const probe = spawnSync(python, ['-c', 'import jinja2, ansible.template'], { encoding: 'utf8' });
  return probe.status === 0 ? python : undefined;
}

export function renderWithAnsible(python: string, cases: JinjaCase[]): Record<string, OracleResult> {
  // Spliced as text: oracleVars is JSON already, in the YAML file's key order.
  const list = cases.map((c) => `{${JSON.stringify({ name: c.id, template: c.template, options: c.options, mode: c.mode, env: c.env }).slice(1, -1)},"vars":${c.oracleVars}}`);
  const input = `{"files_dir":${JSON.stringify(filesDir)},"cases":[${list.join(',')}]}`;
  const r = spawnSync(python, [resolve(repoRoot, 'test/oracle/jinja_render.py')], {
    input,
    encoding: 'utf8',
    // No developer settings (ansible.cfg, ANSIBLE_*) may change what the oracle renders.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ANSIBLE_CONFIG: resolve(repoRoot, 'test/oracle/neutral.cfg') },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`jinja_render.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
