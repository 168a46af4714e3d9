/**
 * A playbook built from roles (defaults, vars, templates, files, handlers,
 * meta dependencies, an include) converges a real Debian host; the second run
 * changes nothing and runs no handler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb, type PlumbRun } from './plumb.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('roles e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

const PLAYBOOK = 'test/fixtures/ansible/roles/fleet.yml';

describe.skipIf(!runE2E)('a playbook of roles on a fleet host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  const run = (args: string[]): Promise<PlumbRun> => plumb([...args, PLAYBOOK, '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath]);
  const sh = (cmd: string) => fleet.sh('mail1', cmd);

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it('converges, then changes nothing', async () => {
    const first = await run(['apply']);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/^mail1\s+changed\s+\d+\s+9\s/m);
    // Defaults under the inventory, role vars over both, a dependency's variables seen by the role that needs it.
    // fleet.sh trims the output's final newline.
    expect(await sh('cat /srv/common/motd')).toBe('hello from defaults on mail1\nsite: role-vars-site\nowner: defaults-owner');
    expect(await sh('cat /srv/common/banner')).toBe('This host is managed by plumb; local edits are overwritten.');
    expect(await sh('cat /srv/web-base/site.conf')).toBe('listen 8080\nname role-vars-site');
    expect(await sh('cat /srv/web-base/extra')).toBe('port 8080');
    // Role parameters over role vars over defaults.
    expect(await sh('cat /srv/app-shop')).toBe('shop 2000 hello from defaults');
    // The role's handler ran once, after the tasks that notified it.
    const stamp = await sh('stat -c %Y.%i /srv/common/handler-ran');

    const plan = await run(['plan']);
    expect(plan.code, plan.stderr + plan.stdout).toBe(0);
    const second = await run(['apply']);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toMatch(/^mail1\s+ok\s+\d+\s+0\s/m);
    expect(await sh('stat -c %Y.%i /srv/common/handler-ran')).toBe(stamp);
  });
});
