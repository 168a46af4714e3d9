/**
 * The contract every module keeps, on a real Debian host: a fresh plan shows a
 * change and changes nothing itself, apply makes it, the next plan shows none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb } from './plumb.js';

const runE2E = process.getuid?.() === 0 || process.env.CI === 'true';
if (!runE2E) console.warn('module conformance tests skipped: they need root (network namespaces, overlayfs, chroot)');

interface Case {
  module: string;
  task: Record<string, unknown>;
  /** Prints the state the task manages; must differ before and after apply. */
  check: string;
  setup?: string;
}

const cases: Case[] = [
  { module: 'apt', task: { apt: { name: 'sasl2-bin' } }, check: "dpkg-query -W -f='${Status}' sasl2-bin 2>&1 || true" },
  { module: 'apt verify', setup: 'apt-get install -y -q libsasl2-modules >/dev/null && rm -f /usr/lib/x86_64-linux-gnu/sasl2/libplain.so', task: { apt: { name: 'libsasl2-modules', verify: true } }, check: 'ls /usr/lib/x86_64-linux-gnu/sasl2/ 2>&1' },
  { module: 'postconf', setup: 'apt-get install -y -q postfix >/dev/null', task: { postconf: { inet_protocols: 'ipv4', smtp_tls_security_level: 'encrypt' } }, check: 'postconf -h inet_protocols smtp_tls_security_level' },
  { module: 'copy', task: { copy: { dest: '/etc/plumb-test/copy.conf', content: 'a = 1\nb = 2\n', mode: '0640', owner: 'root' } }, setup: 'mkdir -p /etc/plumb-test', check: 'stat -c "%a %U" /etc/plumb-test/copy.conf 2>&1; cat /etc/plumb-test/copy.conf 2>&1' },
  { module: 'template', task: { template: { src: 'greeting.j2', dest: '/etc/plumb-test/greeting', mode: '0644' } }, setup: 'mkdir -p /etc/plumb-test', check: 'cat /etc/plumb-test/greeting 2>&1' },
  { module: 'file', task: { file: { path: '/srv/plumb-dir', state: 'directory', mode: '0750' } }, check: 'stat -c "%F %a" /srv/plumb-dir 2>&1' },
  { module: 'lineinfile', setup: "mkdir -p /etc/plumb-test && printf 'x=1\\nkey=old\\n' > /etc/plumb-test/line.conf", task: { lineinfile: { path: '/etc/plumb-test/line.conf', regexp: '^key=', line: 'key=new' } }, check: 'cat /etc/plumb-test/line.conf' },
  { module: 'command', task: { command: { cmd: 'touch /root/command-ran', creates: '/root/command-ran' } }, check: 'ls /root/command-ran 2>&1' },
  { module: 'shell', task: { shell: { cmd: 'echo hi > /root/shell-ran', creates: '/root/shell-ran' } }, check: 'cat /root/shell-ran 2>&1' },
  { module: 'service', setup: 'apt-get install -y -q postfix >/dev/null; service postfix stop >/dev/null 2>&1; true', task: { service: { name: 'postfix', state: 'started' } }, check: 'service postfix status >/dev/null 2>&1 && echo running || echo stopped' },
];

describe.skipIf(!runE2E)('module conformance on a real host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    dir = mkdtempSync(join(tmpdir(), 'plumb-conformance-'));
    writeFileSync(join(dir, 'greeting.j2'), 'hello {{ inventory_hostname }}\n');
  }, 900_000);

  afterAll(async () => {
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
    writeFileSync(file, stringify([{ name: `conformance ${c.module}`, hosts: host, tasks: [{ name: c.module, ...c.task }] }]));
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
