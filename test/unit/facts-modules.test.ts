/**
 * Issue 13 fact modules in the plan and at apply, through the real engine on
 * this machine (local transport, recording every probe script): setup,
 * service_facts and package_facts are read in the one probe round trip, the
 * tasks after them see their facts, and a fact module that follows a change
 * makes the tasks reading its facts "may change", read again at apply.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkRendering } from '../../src/config/check.js';
import { loadProject } from '../../src/config/project.js';
import { applyHost } from '../../src/engine/applier.js';
import { moduleContext } from '../../src/engine/context.js';
import { playFactUsage } from '../../src/engine/fact-usage.js';
import { pendingKeys } from '../../src/engine/pending.js';
import { planTasks } from '../../src/engine/planner.js';
import { runCli } from '../in-process.js';
import { loadLocalPlay, scratchDirPerTest } from '../local-project.js';
import { RecordingTransport } from '../recording-transport.js';

const scratch = scratchDirPerTest('plumb-facts-modules-');
let dir: string;
beforeEach(() => (dir = scratch()));

async function run(play: Record<string, unknown>, apply = false) {
  const { project, play: p, scope, ctx } = await loadLocalPlay(dir, [{ name: 'facts', hosts: 'all', ...play }]);
  const transport = new RecordingTransport((script, round) => `PLUMB_TEST_ROUND=${round}; export PLUMB_TEST_ROUND\n${script}`);
  const pending = pendingKeys(project.playbook, p);
  try {
    const planned = await planTasks({ transport, play: p, scope, ctx, pending, facts: { usage: playFactUsage(p, scope), contextOf: (s) => moduleContext(s, dir) } });
    const probes = transport.scripts.length;
    const applied = apply ? await applyHost({ transport, play: p, scope: planned.scope ?? scope, ctx: planned.ctx ?? ctx, planned, pending }) : undefined;
    return { planned, probes, applied };
  } finally {
    await transport.close();
  }
}

const nodename = execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim();
const dpkgVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dpkg'], { encoding: 'utf8' });

describe('fact modules', () => {
  it('setup with gather_facts: false and a filter: read in the one round trip, sets only what the filter matches', async () => {
    const conf = join(dir, 'a.conf');
    const { planned, probes } = await run({
      gather_facts: false,
      tasks: [
        { name: 'facts', 'ansible.builtin.setup': { filter: ['ansible_hostname'] } },
        { name: 'write', lineinfile: { path: conf, line: 'host={{ ansible_hostname }} {{ ansible_facts | length }}', create: true } },
      ],
    });
    expect(probes).toBe(1);
    expect(planned.tasks.map((t) => t.outcome)).toEqual(['ok', 'change']);
    expect(planned.tasks[1].changes[0].summary).toContain(`add line host=${nodename.split('.')[0]} 1`);
  });

  it('package_facts and service_facts: ansible_facts.packages and .services for the tasks after them; a task that needs their values to be prepared is probed in one more round trip', async () => {
    const conf = join(dir, 'b.conf');
    const { planned, probes } = await run({
      tasks: [
        { name: 'packages', package_facts: { manager: 'auto' } },
        { name: 'services', service_facts: {} },
        { name: 'write', lineinfile: { path: conf, line: "dpkg={{ ansible_facts.packages['dpkg'][0].version }} {{ ansible_facts.services | length > 0 }}", create: true } },
      ],
    });
    // The modules' reads are in the first round trip; the line cannot be rendered before they are back.
    expect(probes).toBe(2);
    expect(planned.tasks.map((t) => t.outcome)).toEqual(['ok', 'ok', 'change']);
    expect(planned.tasks[2].changes[0].summary).toContain(`add line dpkg=${dpkgVersion} True`);
  });

  it('a fact module after a change: the task reading its facts may change (with the reason), and apply reads them again and uses the new values', async () => {
    const marker = join(dir, 'marker');
    const out = join(dir, 'out.conf');
    const play = {
      gather_facts: false,
      tasks: [
        { name: 'make marker', lineinfile: { path: marker, line: 'x', create: true } },
        { name: 'reread', setup: { filter: 'ansible_env' } },
        { name: 'use', lineinfile: { path: out, line: 'seen={{ ansible_env.HOME }} round={{ ansible_env.PLUMB_TEST_ROUND | default("none") }}', create: true } },
        { name: 'unrelated', lineinfile: { path: join(dir, 'other.conf'), line: 'y', create: true } },
      ],
    };
    const { planned, probes, applied } = await run(play, true);
    expect(probes).toBe(1);
    expect(planned.tasks.map((t) => t.outcome)).toEqual(['change', 'ok', 'may-change', 'change']);
    expect(planned.tasks[2].reason).toBe('reads facts that "reread" reads again after "make marker" changes the host');
    expect(applied?.failed).toBe(false);
    expect(applied?.results.map((r) => r.status)).toEqual(['changed', 'ok', 'changed', 'changed']);
    // Planned with round 1's facts; apply read setup again (round 2) and rendered the line with them.
    expect(readFileSync(out, 'utf8')).toBe(`seen=${process.env.HOME} round=2\n`);
  });

  it('validate: which packages and services a host has is only known there, so a task reading them after the module is not rendered with stand-ins', async () => {
    const tasks = [
      { name: 'too early', lineinfile: { path: join(dir, 'x'), line: "{{ ansible_facts.packages['dpkg'][0].version }}", create: true } },
      { package_facts: {} },
      { name: 'after', lineinfile: { path: join(dir, 'y'), line: "{{ ansible_facts.packages['dpkg'][0].version }}", create: true } },
      { name: 'host fact', lineinfile: { path: join(dir, 'z'), line: '{{ ansible_nodename | nosuchfilter }}', create: true } },
    ];
    writeFileSync(join(dir, 'site.yaml'), stringify([{ name: 'facts', hosts: 'all', tasks }]));
    writeFileSync(join(dir, 'inventory.yaml'), stringify({ all: { hosts: { here: { connection: 'local' } } } }));
    const project = await loadProject({ playbookPath: join(dir, 'site.yaml'), inventoryPath: join(dir, 'inventory.yaml'), extraVars: {} });
    const errors = checkRendering(project, () => ['here']).diagnostics.filter((d) => d.severity === 'error');
    // The first task (before package_facts) and the last (a filter error, whatever the facts) only.
    expect(errors).toHaveLength(2);
    expect(errors[0].message).toContain('packages');
    expect(errors[1].message).toContain('nosuchfilter');
  });

  it('a saved plan with setup applies: what setup read (free memory moves) is not fingerprinted, the facts a task uses are, in its arguments', async () => {
    const book = join(dir, 'site.yaml');
    const inventory = join(dir, 'inventory.yaml');
    const saved = join(dir, 'plan.json');
    const out = join(dir, 'kernel.conf');
    writeFileSync(inventory, stringify({ all: { hosts: { here: { connection: 'local' } } } }));
    writeFileSync(
      book,
      stringify([{ name: 'facts', hosts: 'all', gather_facts: false, tasks: [{ setup: {} }, { lineinfile: { path: out, line: 'kernel={{ ansible_kernel }}', create: true } }] }]),
    );
    const env = { ...process.env, NO_COLOR: '1' };
    const plan = await runCli(['plan', book, '-i', inventory, '--out', saved], env);
    expect(plan.code, plan.stderr).toBe(2);
    const apply = await runCli(['apply', saved], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`kernel=${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}\n`);
  });
});
