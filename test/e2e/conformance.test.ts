/**
 * The contract every module keeps, on a real Debian host: a fresh plan shows a
 * change and changes nothing itself, apply makes it, the next plan shows none.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { type FileServer, startFileServer } from '../fleet/http.js';
import { conformanceCases as cases } from './conformance-cases.js';
import { plumb } from './plumb.js';

const runE2E = process.getuid?.() === 0 || process.env.CI === 'true';
if (!runE2E) console.warn('module conformance tests skipped: they need root (network namespaces, overlayfs, chroot)');

describe.skipIf(!runE2E)('module conformance on a real host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  let web: FileServer | undefined;

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    dir = mkdtempSync(join(tmpdir(), 'plumb-conformance-'));
    writeFileSync(join(dir, 'greeting.j2'), 'hello {{ inventory_hostname }}\n');
    // Issue 15 (get_url, unarchive): files the host downloads from the fleet's bridge (@HTTP@ in a task), and a local archive.
    mkdirSync(join(dir, 'web/app/bin'), { recursive: true });
    writeFileSync(join(dir, 'web/hello.txt'), 'hello from the bridge\n');
    writeFileSync(join(dir, 'web/app/bin/run'), '#!/bin/sh\necho run\n');
    execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', join(dir, 'web'), '--owner=0', '--group=0', 'app']);
    web = await startFileServer(join(dir, 'web'), fleet.relay.host);
  }, 900_000);

  afterAll(async () => {
    await web?.close();
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(cases.map((c) => [c.module, c]))('%s: plan shows a change, apply makes it, the next plan shows none', async (_name, c) => {
    const host = fleet.hosts[0].name;
    const exec = async (cmd: string) => (await fleet.exec(host, cmd)).stdout;
    if (c.setup) {
      const r = await fleet.exec(host, c.setup);
      expect(r.code, r.stderr).toBe(0);
    }
    const file = join(dir, `${c.module.replace(/\W/g, '-')}.yaml`);
    const task = JSON.parse(
      JSON.stringify(c.task)
        .split('@HTTP@')
        .join(web?.url ?? '@HTTP@'),
    ) as Record<string, unknown>;
    const tasks = [{ name: c.module, ...task }, ...(c.then ? [{ name: `${c.module} read`, ...c.then }] : [])];
    writeFileSync(file, stringify([{ name: `conformance ${c.module}`, hosts: host, ...(c.then ? { gather_facts: false } : {}), tasks }]));
    const args = ['-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath];

    const before = await exec(c.check);
    const plan = await plumb(['plan', file, ...args]);
    // Issue 15: a failing control task fails the plan; a wait alone is no change (see ConformanceCase).
    const planExit = c.fails ? 1 : c.waits && !c.then ? 0 : 2;
    expect(plan.code, plan.stdout + plan.stderr).toBe(planExit);
    if (planExit === 2) expect(plan.stdout).toMatch(/^\s+~ /m);
    if (c.waits) expect(plan.stdout).toMatch(/^\s+= /m);
    if (c.prints) expect(plan.stdout).toMatch(new RegExp(`^\\s+> .*: ${c.prints}`, 'm'));
    if (c.fails) expect(plan.stdout + plan.stderr).toContain(c.fails.message);
    expect(await exec(c.check)).toBe(before); // plan is check mode: nothing changed

    if (c.waits?.during) {
      // Detached, so the exec returns while it runs; its pid is kept to end it afterwards.
      const r = await fleet.exec(host, `setsid sh -c 'echo $$ > /tmp/conformance-during.pid; ${c.waits.during.replace(/'/g, "'\\''")}' </dev/null >/dev/null 2>&1 &`);
      expect(r.code, r.stderr).toBe(0);
    }
    const started = Date.now();
    const apply = await plumb(['apply', file, ...args]);
    const seconds = (Date.now() - started) / 1000;
    try {
      if (c.fails) {
        expect(apply.code, apply.stdout + apply.stderr).toBe(1);
        expect(apply.stdout + apply.stderr).toContain(c.fails.message);
        expect(await exec(c.check)).toBe(before); // the task after the failure did not run
        const again = await plumb(['plan', file, ...args]);
        expect(again.code).toBe(1);
        return;
      }
      expect(apply.code, apply.stdout + apply.stderr).toBe(0);
      const changed = c.waits && !c.then ? 'ok\\s+\\d+\\s+0' : 'changed\\s+\\d+\\s+1';
      expect(apply.stdout).toMatch(new RegExp(`^${host}\\s+${changed}\\s`, 'm'));
      if (c.waits?.minSeconds) expect(seconds).toBeGreaterThanOrEqual(c.waits.minSeconds);
      if (c.prints) expect(apply.stdout + apply.stderr).toContain(c.prints);
      const after = await exec(c.check);
      expect(after).not.toBe(before);

      const again = await plumb(['plan', file, ...args]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      // What a wait_for waited for is there now: nothing to wait for (a pause always waits).
      if (c.waits?.during) expect(again.stdout).not.toMatch(/^\s+= /m);
      expect(await exec(c.check)).toBe(after);
    } finally {
      if (c.waits?.during) await fleet.exec(host, 'kill "$(cat /tmp/conformance-during.pid)" 2>/dev/null; rm -f /tmp/conformance-during.pid; true');
    }
  });
});
