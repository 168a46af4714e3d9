/**
 * Differential test: every inventory under test/fixtures/ansible/inventory
 * (cases.json) goes through real `ansible-inventory --list` (the oracle,
 * Debian's ansible-core) and through `plumb inventory --list`; hosts, group
 * membership (each group's hosts and children) and every host's merged
 * variables must be the same JSON. Ansible starts once for all cases
 * (test/oracle/ansible_inventory_batch.py forks a child per case); one case is
 * also run through the real ansible-inventory binary, so the batching itself
 * is checked against the command users run.
 * In CI (CI=true) a missing ansible-core fails this file instead of skipping it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../in-process.js';

const root = resolve('test/fixtures/ansible/inventory');
interface Case {
  name: string;
  inventory?: string;
  playbookDir?: string;
  ansibleConfig?: string;
}
const cases: Case[] = JSON.parse(readFileSync(resolve(root, 'cases.json'), 'utf8'));

/** ansible-inventory's own interpreter (its #! line): the python3 first on PATH may not have Ansible. */
function ansiblePython(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v ansible-inventory'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const first = readFileSync(which.stdout.trim(), 'utf8').split('\n')[0];
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) return undefined;
  return m[1].endsWith('/env') ? m[2] : m[1];
}

const python = ansiblePython();
const inCI = process.env.CI === 'true';
if (!python && !inCI) console.warn('ansible-inventory differential tests skipped: ansible-core is not installed (scripts/install-deps.sh installs it)');

/** An environment without the developer's own Ansible settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: resolve(root, '13-ansible-cfg/inventories'), LANG: 'C.UTF-8', ...extra };
  return env;
}

function argsOf(c: Case): string[] {
  return [...(c.inventory ? ['-i', resolve(root, c.inventory)] : []), ...(c.playbookDir ? ['--playbook-dir', resolve(root, c.playbookDir)] : [])];
}

function envOf(c: Case): NodeJS.ProcessEnv {
  return cleanEnv(c.ansibleConfig ? { ANSIBLE_CONFIG: resolve(root, c.ansibleConfig) } : {});
}

/** The oracle's --list for every case without its own ansible.cfg, in one Ansible start. */
function ansibleBatch(list: Case[]): Record<string, unknown> {
  const input = JSON.stringify(list.map((c) => ({ name: c.name, args: argsOf(c) })));
  const r = spawnSync(python!, ['test/oracle/ansible_inventory_batch.py'], {
    input,
    encoding: 'utf8',
    env: cleanEnv({ ANSIBLE_CONFIG: resolve('test/oracle/neutral.cfg') }),
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`ansible batch failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function ansibleCli(c: Case): unknown {
  const env = c.ansibleConfig ? envOf(c) : cleanEnv({ ANSIBLE_CONFIG: resolve('test/oracle/neutral.cfg') });
  const r = spawnSync('ansible-inventory', [...argsOf(c), '--list'], { encoding: 'utf8', env, cwd: root });
  if (r.status !== 0) throw new Error(`ansible-inventory failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function plumbList(c: Case): Promise<unknown> {
  const r = await runCli(['inventory', ...argsOf(c), '--list'], envOf(c));
  if (r.code !== 0) throw new Error(`plumb inventory failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!python && !inCI)('plumb inventory --list agrees with ansible-inventory --list', { timeout: 120_000 }, () => {
  it('ansible-core is installed (CI must run the oracle, not skip it)', () => {
    expect(python, 'ansible-inventory not found: run scripts/install-deps.sh').toBeDefined();
  });

  it(`on every fixture (${cases.length} cases; at least 12)`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
    const oracle = ansibleBatch(cases.filter((c) => !c.ansibleConfig));
    for (const c of cases.filter((x) => x.ansibleConfig)) oracle[c.name] = ansibleCli(c);
    const disagreements: string[] = [];
    for (const c of cases) {
      const theirs = oracle[c.name];
      expect(theirs, `${c.name}: Ansible's answer`).not.toHaveProperty('error');
      const ours = await plumbList(c);
      try {
        expect(ours).toEqual(theirs);
      } catch {
        disagreements.push(`${c.name}:\n  ansible: ${JSON.stringify(theirs)}\n  plumb:   ${JSON.stringify(ours)}`);
      }
    }
    console.log(`ansible-inventory and plumb agree on ${cases.length - disagreements.length} of ${cases.length} fixtures`);
    expect(disagreements).toEqual([]);
  });

  it('the batch runner answers as the ansible-inventory binary does', () => {
    const c = cases.find((x) => x.playbookDir)!;
    expect(ansibleBatch([c])[c.name]).toEqual(ansibleCli(c));
  });
});
