/**
 * Issue 15: debug, assert and fail read nothing on the host, so a seed-style playbook that uses
 * them still costs one probe round trip per host when nothing is to change, plain or with
 * register; at apply they are decided without a probe, even after a change.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyHost } from '../../src/engine/applier.js';
import { pendingKeys } from '../../src/engine/pending.js';
import { planTasks } from '../../src/engine/planner.js';
import { loadLocalPlay, scratchDirPerTest } from '../local-project.js';
import { RecordingTransport } from '../recording-transport.js';

const scratch = scratchDirPerTest('plumb-control-trips-');
let dir: string;
beforeEach(() => (dir = scratch()));

async function planAndApply(tasks: unknown[]) {
  const plays = [{ name: 'relay', hosts: 'all', vars: { relay: '[smtp.gmail.com]:587' }, tasks }];
  const { project, play, scope, ctx } = await loadLocalPlay(dir, plays, { PLUMB_STATE_DIR: join(dir, 'state') });
  const transport = new RecordingTransport();
  try {
    const pending = pendingKeys(project.playbook, play);
    const planned = await planTasks({ transport, play, scope, ctx, pending });
    const planScripts = transport.scripts.length;
    const { results } = await applyHost({ transport, play, scope, ctx, planned, pending });
    return { planned, planScripts, applyScripts: transport.scripts.length - planScripts, results };
  } finally {
    await transport.close();
  }
}

const seedLike = (conf: string) => [
  { name: 'relayhost', lineinfile: { path: conf, regexp: '^relayhost', line: 'relayhost = {{ relay }}' } },
  { name: 'show', debug: { msg: 'relay is {{ relay }}' } },
  { name: 'show var', debug: { var: 'relay' } },
  { name: 'check', assert: { that: ["relay is match('\\\\[')", 'relay | length > 5'] } },
  { name: 'never', fail: { msg: 'not here' }, when: 'relay == ""' },
];

describe('control modules cost no round trip of their own', () => {
  it('a no-op plan of a seed-style playbook with debug, assert and fail: one probe script', async () => {
    const conf = join(dir, 'main.cf');
    writeFileSync(conf, 'relayhost = [smtp.gmail.com]:587\n');
    const { planned, planScripts, applyScripts, results } = await planAndApply(seedLike(conf));
    expect(planScripts).toBe(1);
    expect(planned.tasks.map((t) => t.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'skipped']);
    expect(planned.tasks.map((t) => t.message)).toEqual([undefined, 'relay is [smtp.gmail.com]:587', 'relay: [smtp.gmail.com]:587', 'All assertions passed', undefined]);
    expect(applyScripts).toBe(0);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'skipped']);
  });

  it('after a change, apply decides debug and assert without probing again', async () => {
    const conf = join(dir, 'main.cf');
    writeFileSync(conf, 'relayhost = old\n');
    const { planScripts, applyScripts, results } = await planAndApply(seedLike(conf));
    expect(planScripts).toBe(1);
    expect(applyScripts).toBe(0);
    expect(results.map((r) => [r.status, r.message])).toEqual([
      ['changed', undefined],
      ['ok', 'relay is [smtp.gmail.com]:587'],
      ['ok', 'relay: [smtp.gmail.com]:587'],
      ['ok', 'All assertions passed'],
      ['skipped', undefined],
    ]);
  });

  it('with register (the dynamic walk): still one probe script for a no-op', async () => {
    const conf = join(dir, 'main.cf');
    writeFileSync(conf, 'relayhost = [smtp.gmail.com]:587\n');
    const tasks = [
      { name: 'read', command: `cat ${conf}`, register: 'cf', changed_when: false },
      { name: 'show', debug: { var: 'cf.stdout' }, register: 'shown' },
      { name: 'check', assert: { that: ["'relayhost' in cf.stdout", "shown['cf.stdout'] == cf.stdout"] } },
      ...seedLike(conf),
    ];
    const { planned, planScripts, applyScripts } = await planAndApply(tasks);
    expect(planScripts).toBe(1);
    expect(applyScripts).toBe(0);
    expect(planned.tasks[1].message).toBe('cf.stdout: relayhost = [smtp.gmail.com]:587');
    expect(planned.tasks[2].outcome).toBe('ok');
  });
});
