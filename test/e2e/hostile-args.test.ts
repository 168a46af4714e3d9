/**
 * Issue 10, class 1 on a real Debian host: hostile apt, service, file, copy
 * and command values arriving from -e and from the inventory. Each payload
 * tries to leave a marker file on the host (through an apt option, an
 * init.d path, a path with .., a chown option, a templated `unless`); plan
 * and apply must refuse the task with a message naming it, the argument and
 * the variable, and nothing may run: no marker, no apt action, no package.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb, type PlumbRun } from './plumb.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('hostile-args e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

const MARKERS = ['/tmp/pwned-apt', '/tmp/pwned-apt2', '/tmp/pwned-svc', '/tmp/pwned-file', '/tmp/pwned-copy', '/tmp/pwned-unless', '/tmp/pwned-cmd'];

describe.skipIf(!runE2E)('hostile argument values on a fleet host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  const outputs: PlumbRun[] = [];

  /** The fleet's inventory with extra variables on mail1 and on its group. */
  const inventory = (hostVars: Record<string, unknown>, groupVars: Record<string, unknown> = {}) => {
    const inv = parse(readFileSync(fleet.inventoryPath, 'utf8'));
    Object.assign(inv.all.children.mailers.hosts.mail1, hostVars);
    Object.assign(inv.all.children.mailers.vars, groupVars);
    const path = join(dir, `inventory-${outputs.length}.yaml`);
    writeFileSync(path, stringify(inv));
    return path;
  };
  const playbook = (tasks: unknown[]) => {
    const path = join(dir, `site-${outputs.length}.yaml`);
    writeFileSync(path, stringify([{ name: 'hostile', hosts: 'mailers', become: false, tasks }]));
    return path;
  };
  const run = async (args: string[]) => {
    const r = await plumb([...args, '--known-hosts', fleet.knownHostsPath]);
    outputs.push(r);
    return r;
  };
  /** plan then apply; both must fail with `message` and leave the host untouched. */
  const refused = async (pb: string, inv: string, extra: string[], message: RegExp) => {
    for (const mode of ['plan', 'apply']) {
      const r = await run([mode, pb, '-i', inv, ...extra]);
      expect(r.code, `${mode}: ${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
    }
  };
  const sh = async (cmd: string) => (await fleet.exec('mail1', cmd)).stdout.trim();

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    dir = mkdtempSync(join(tmpdir(), 'plumb-hostile-e2e-'));
    // What /etc/init.d/../../tmp/evil{{ would run if a service name could be a path.
    await fleet.exec('mail1', `printf '#!/bin/sh\\ntouch /tmp/pwned-svc\\n' > '/tmp/evil{{' && chmod 755 '/tmp/evil{{'`);
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('control: the same tasks with honest values reach the host and plan changes (exit 2)', async () => {
    const pb = playbook([
      { name: 'Install packages', apt: { name: ['postfix', '{{ pkg }}'] } },
      { name: 'Start it', service: { name: '{{ svc }}', state: 'stopped' } },
    ]);
    const r = await run(['plan', pb, '-i', inventory({ svc: 'ssh' }), '-e', 'pkg=sasl2-bin']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/install postfix/);
    expect(r.stdout).toMatch(/install sasl2-bin/);
  });

  it('apt: an option hidden behind {{ from -e never reaches apt-get', async () => {
    const pb = playbook([{ name: 'Install packages', apt: { name: ['postfix', '{{ pkg }}'] } }]);
    const e = JSON.stringify({ pkg: '-oDPkg::Pre-Invoke::=touch /tmp/pwned-apt #{{ "{{" }}' });
    await refused(
      pb,
      fleet.inventoryPath,
      ['-e', e],
      /task "Install packages": apt\.name\[1\] = "-oDPkg::Pre-Invoke::=touch \/tmp\/pwned-apt #\{\{" is not a Debian package name .*, from variable pkg/,
    );
  });

  it('apt: a plain option from -e', async () => {
    const pb = playbook([{ name: 'Install packages', apt: { name: '{{ pkg }}' } }]);
    await refused(
      pb,
      fleet.inventoryPath,
      ['-e', 'pkg=-oDPkg::Pre-Invoke::=touch /tmp/pwned-apt2'],
      /task "Install packages": apt\.name = "-oDPkg::Pre-Invoke::=touch \/tmp\/pwned-apt2" is not a Debian package name .*, from variable pkg/,
    );
  });

  it('service: a path from an inventory host var never makes plan run a file', async () => {
    const pb = playbook([{ name: 'Start it', service: { name: '{{ svc }}', state: 'started' } }]);
    const inv = inventory({ svc: `../../tmp/evil{{ '{{' }}` });
    await refused(pb, inv, [], /task "Start it": service\.name = "\.\.\/\.\.\/tmp\/evil\{\{" is not a service name .*, from variable svc/);
  });

  it('service: an option from -e', async () => {
    const pb = playbook([{ name: 'Start it', service: { name: '{{ svc }}', state: 'started' } }]);
    await refused(pb, fleet.inventoryPath, ['-e', 'svc=--status-all'], /task "Start it": service\.name = "--status-all" is not a service name .*, from variable svc/);
  });

  it('file: a path with .. from -e', async () => {
    const pb = playbook([{ name: 'Touch it', file: { path: '{{ where }}', state: 'touch' } }]);
    await refused(
      pb,
      fleet.inventoryPath,
      ['-e', 'where=/var/tmp/../../tmp/pwned-file'],
      /task "Touch it": file\.path = "\/var\/tmp\/\.\.\/\.\.\/tmp\/pwned-file" is not a normalized path .*, from variable where/,
    );
  });

  it('copy: a chown option as owner from an inventory group var', async () => {
    const pb = playbook([{ name: 'Write it', copy: { dest: '/tmp/pwned-copy', content: 'x\n', owner: '{{ file_owner }}' } }]);
    const inv = inventory({}, { file_owner: '--reference=/etc/shadow' });
    await refused(pb, inv, [], /task "Write it": copy\.owner = "--reference=\/etc\/shadow" is not a user or group name .*, from variable file_owner/);
  });

  it('command: a templated unless is refused at load, so plan cannot run what a variable says', async () => {
    const pb = playbook([{ name: 'Guarded', command: { cmd: 'true', unless: '{{ check }}' } }]);
    await refused(pb, fleet.inventoryPath, ['-e', 'check=touch /tmp/pwned-unless'], /tasks\[0\]\.command\.unless: .*written literally/);
  });

  it('command: a NUL in an argv word from an inventory host var', async () => {
    const pb = playbook([{ name: 'Run it', command: { argv: ['touch', '{{ target }}'] } }]);
    const inv = inventory({ target: '/tmp/pwned-cmd\0' });
    await refused(pb, inv, [], /NUL/);
  });

  it('nothing ran on the host: no marker, no apt action, no package', async () => {
    for (const m of MARKERS) expect(await sh(`test -e ${m} && echo present || echo absent`), m).toBe('absent');
    expect(await sh('test -s /var/log/apt/history.log && echo ran || echo none')).toBe('none');
    expect(await sh("dpkg-query -W -f='${db:Status-Status}' postfix 2>/dev/null || echo not-installed")).toMatch(/^(not-installed)?$/);
    // Every refusal happened before any host was contacted, with no stack trace.
    for (const r of outputs.slice(1)) expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });
});
