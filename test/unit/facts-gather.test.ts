/**
 * Issue 13 facts in the plan: gathered only when the play reads them, in the
 * same round trip as the probes that do not depend on them, and in one more
 * round trip only for probes that do. Driven in process through the real
 * engine and a local transport that records every probe script it runs.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { moduleContext } from '../../src/engine/context.js';
import { playFactUsage } from '../../src/engine/fact-usage.js';
import { subsetsOf } from '../../src/facts/host-facts.js';
import { pendingKeys } from '../../src/engine/pending.js';
import { planTasks } from '../../src/engine/planner.js';
import { loadLocalPlay, scratchDirPerTest } from '../local-project.js';
import { RecordingTransport } from '../recording-transport.js';

const scratch = scratchDirPerTest('plumb-facts-gather-');
let dir: string;
beforeEach(() => (dir = scratch()));

const nodename = execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim();

async function plan(play: Record<string, unknown>) {
  const { project, play: p, scope } = await loadLocalPlay(dir, [{ name: 'facts', hosts: 'all', ...play }]);
  const transport = new RecordingTransport();
  try {
    const planned = await planTasks({
      transport,
      play: p,
      scope,
      ctx: moduleContext(scope, dir),
      pending: pendingKeys(project.playbook, p),
      facts: { usage: playFactUsage(p, scope), contextOf: (s) => moduleContext(s, dir) },
    });
    return { planned, scripts: transport.scripts };
  } finally {
    await transport.close();
  }
}

// The fact snippet hands its command outputs to one awk through __PLUMB_* variables.
const gathers = (script: string) => script.includes('__PLUMB_N=');

describe('facts in the plan', () => {
  it('gathers nothing for a play that reads no fact: one round trip, no fact snippet', async () => {
    const conf = join(dir, 'a.conf');
    const { planned, scripts } = await plan({ tasks: [{ lineinfile: { path: conf, line: 'a=1', create: true } }] });
    expect(scripts).toHaveLength(1);
    expect(gathers(scripts[0])).toBe(false);
    expect(planned.tasks[0].outcome).toBe('change');
  });

  it('gathers in the same round trip when no probe depends on a fact value, and plans with the real value', async () => {
    const conf = join(dir, 'main.cf');
    writeFileSync(conf, 'myhostname = old\n');
    const { planned, scripts } = await plan({
      tasks: [
        { name: 'name', lineinfile: { path: conf, regexp: '^myhostname', line: 'myhostname = {{ ansible_hostname }}' }, when: "ansible_os_family == 'Debian'" },
        { name: 'dict', lineinfile: { path: conf, line: "family = {{ ansible_facts['os_family'] }} {{ ansible_facts.distribution_major_version | int > 0 }}" } },
      ],
    });
    expect(scripts).toHaveLength(1);
    expect(gathers(scripts[0])).toBe(true);
    expect(planned.tasks.map((t) => t.changes.map((c) => c.summary))).toEqual([
      [`replace line myhostname = old → myhostname = ${nodename.split('.')[0]}`],
      ['add line family = Debian True'],
    ]);
  });

  it('takes one more round trip when a probe depends on a fact value (a path built from ansible_hostname)', async () => {
    const { planned, scripts } = await plan({
      tasks: [
        { name: 'fixed', lineinfile: { path: join(dir, 'fixed.conf'), line: 'x', create: true } },
        { name: 'per host', lineinfile: { path: `${dir}/{{ ansible_hostname }}.conf`, line: 'x', create: true } },
      ],
    });
    expect(scripts).toHaveLength(2);
    expect(gathers(scripts[0])).toBe(true);
    expect(scripts[0]).not.toContain('plumb-standin');
    expect(scripts[1]).toContain(`${dir}/${nodename.split('.')[0]}.conf`);
    expect(planned.tasks.map((t) => t.outcome)).toEqual(['change', 'change']);
  });

  it('a play with a loop and a registered read-only command gathers in the same round trip too', async () => {
    const conf = join(dir, 'main.cf');
    writeFileSync(conf, 'myhostname = old\n');
    const { planned, scripts } = await plan({
      tasks: [
        { name: 'read', command: `cat ${conf}`, register: 'current', changed_when: false },
        {
          name: 'keys',
          lineinfile: { path: conf, regexp: '^{{ item }} ', line: '{{ item }} = {{ ansible_hostname }}' },
          loop: ['myhostname', 'mydomain'],
          when: "'myhostname' in current.stdout",
        },
      ],
    });
    expect(scripts).toHaveLength(1);
    expect(gathers(scripts[0])).toBe(true);
    expect(planned.tasks.map((t) => t.changes.map((c) => c.summary))).toEqual([
      [],
      [`replace line myhostname = old → myhostname = ${nodename.split('.')[0]}`],
      [`add line mydomain = ${nodename.split('.')[0]}`],
    ]);
  });

  it('in such a play, a probe that depends on a fact value waits for the real facts: no stand-in path is read', async () => {
    const { planned, scripts } = await plan({
      tasks: [
        { name: 'read', command: 'true', register: 'r', changed_when: false },
        { name: 'per host', lineinfile: { path: `${dir}/{{ ansible_hostname }}-{{ item }}.conf`, line: 'x', create: true }, loop: ['a'] },
      ],
    });
    expect(scripts).toHaveLength(2);
    expect(scripts.join('\n')).not.toContain('plumb-standin');
    expect(scripts[1]).toContain(`${dir}/${nodename.split('.')[0]}-a.conf`);
    expect(planned.tasks.map((t) => t.outcome)).toEqual(['ok', 'change']);
  });

  it('refuses a fact module in a play with loops/register (not layered by the walk yet), naming what to use instead', async () => {
    await expect(
      plan({
        gather_facts: false,
        tasks: [{ setup: { filter: ['ansible_hostname'] } }, { name: 'loop', lineinfile: { path: join(dir, 'x.conf'), line: '{{ item }}', create: true }, loop: ['a'] }],
      }),
    ).rejects.toThrow(/setup, service_facts and package_facts are not supported yet in a play with loops, register or set_fact/);
  });

  it('gather_facts: false makes a fact an undefined variable, as in Ansible', async () => {
    await expect(plan({ gather_facts: false, tasks: [{ lineinfile: { path: join(dir, 'x'), line: '{{ ansible_hostname }}', create: true } }] })).rejects.toThrow(
      /undefined variable "ansible_hostname"/,
    );
  });

  it('gather_subset leaves out what it does not collect; play vars win over facts', async () => {
    await expect(plan({ gather_subset: ['!all'], tasks: [{ lineinfile: { path: join(dir, 'x'), line: '{{ ansible_memtotal_mb }}', create: true } }] })).rejects.toThrow(
      /ansible_memtotal_mb/,
    );
    const { planned } = await plan({
      vars: { ansible_hostname: 'mine' },
      tasks: [{ lineinfile: { path: join(dir, 'y'), line: '{{ ansible_hostname }} {{ ansible_distribution }}', create: true } }],
    });
    expect(planned.tasks[0].changes[0].summary.endsWith(', add line mine Debian')).toBe(true);
    expect([...subsetsOf(['!all', 'network'])].sort()).toEqual(['min', 'network']);
    expect([...subsetsOf(['!all', '!min'])]).toEqual([]);
    expect([...subsetsOf(undefined)].sort()).toEqual(['hardware', 'min', 'network']);
  });

  it('a fact value is data, never template code', async () => {
    process.env.PLUMB_TEST_HOSTILE = '{{ 7*7 }} {% if true %}x{% endif %} \'"';
    try {
      const { planned } = await plan({ tasks: [{ lineinfile: { path: join(dir, 'z'), line: 'v={{ ansible_env.PLUMB_TEST_HOSTILE }}', create: true } }] });
      expect(planned.tasks[0].changes[0].summary.endsWith(`, add line v={{ 7*7 }} {% if true %}x{% endif %} '"`)).toBe(true);
    } finally {
      delete process.env.PLUMB_TEST_HOSTILE;
    }
  });
});
