/**
 * Issue 15: a no-op run of one play that uses 25 or more different modules costs one round trip per
 * host, as the seed's does: every module's read joins the one batched probe script. Counted on a
 * real fleet host by spying on the transport's exec (the probe batch is one exec; anything a
 * module ran on its own would be another).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { ShellTransport } from '../../src/transport/base-transport.js';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb, repoRoot } from './plumb.js';

const runE2E = process.getuid?.() === 0 || process.env.CI === 'true';
if (!runE2E) console.warn('many-modules no-op test skipped: it needs root (network namespaces, overlayfs, chroot)');

const PLAYBOOK = join(repoRoot, 'test/e2e/fixtures/many-modules/playbook.yaml');
const MODULES_AT_LEAST = 25;

/** The distinct modules the fixture's tasks use (each task's one key beside name and task keywords). */
function modulesUsed(): string[] {
  const plays = parse(readFileSync(PLAYBOOK, 'utf8')) as Array<{ tasks: Array<Record<string, unknown>> }>;
  const keywords = new Set(['name', 'when', 'register', 'become', 'notify', 'tags', 'vars', 'check_mode', 'changed_when']);
  return [...new Set(plays.flatMap((p) => p.tasks.flatMap((t) => Object.keys(t).filter((k) => !keywords.has(k)))))];
}

describe.skipIf(!runE2E)('a no-op of many modules costs one round trip per host', { timeout: 600_000 }, () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ hosts: 2 });
  }, 900_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  it(`uses at least ${MODULES_AT_LEAST} different modules`, () => {
    expect(modulesUsed().length).toBeGreaterThanOrEqual(MODULES_AT_LEAST);
  });

  it('converges, then a plan and an apply each cost one exec per host and change nothing', async () => {
    const args = ['-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath];
    const first = await plumb(['apply', PLAYBOOK, ...args]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const execs = vi.spyOn(ShellTransport.prototype, 'exec');
    try {
      for (const command of ['plan', 'apply']) {
        execs.mockClear();
        const r = await plumb([command, PLAYBOOK, ...args]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        if (command === 'apply') for (const h of fleet.hosts) expect(r.stdout).toMatch(new RegExp(`^${h.name}\\s+ok\\s+\\d+\\s+0\\s+0\\s`, 'm'));
        const perHost = new Map<string, number>();
        for (const t of execs.mock.contexts as ShellTransport[]) perHost.set(t.host, (perHost.get(t.host) ?? 0) + 1);
        console.info(`${command} of ${modulesUsed().length} modules: execs per host ${JSON.stringify(Object.fromEntries(perHost))}`);
        expect(Object.fromEntries(perHost)).toEqual(Object.fromEntries(fleet.hosts.map((h) => [h.name, 1])));
      }
    } finally {
      execs.mockRestore();
    }
  });
});
