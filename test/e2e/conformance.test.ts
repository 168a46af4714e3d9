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
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/^\s+~ /m);
    expect(await exec(c.check)).toBe(before); // plan is check mode: nothing changed

    const apply = await plumb(['apply', file, ...args]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(new RegExp(`^${host}\\s+changed\\s+\\d+\\s+1\\s`, 'm'));
    const after = await exec(c.check);
    expect(after).not.toBe(before);

    const again = await plumb(['plan', file, ...args]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await exec(c.check)).toBe(after);
  });
});
