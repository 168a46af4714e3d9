/**
 * The test fleet itself, proven with the OpenSSH client and plain commands:
 * real sshd with strict host keys, offline apt, SysV postfix in its own
 * namespace, the stand-in relay's STARTTLS/AUTH rules, a hand-configured
 * postfix relaying through it, isolation between hosts, and a teardown that
 * leaves nothing behind (also after a crashed run).
 */
import { execSync, spawn } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startFleet, teardownFleet, readState, type Fleet } from '../fleet/fleet.js';
import { fleetName, names, netnsPattern, vethPattern, knownSubnet } from '../fleet/naming.js';
import { run } from '../fleet/run.js';
import { Smtp, authPlain as plain } from '../fleet/smtp-client.js';
import { command } from '../../src/quote.js';

const isRoot = process.getuid?.() === 0;
const inCI = process.env.CI === 'true';
// In CI these tests must run (and fail if they cannot); elsewhere they need root.
const skip = !isRoot && !inCI;
if (skip) console.warn('fleet e2e tests skipped: they need root (network namespaces, overlay mounts, chroot); CI=true forces them');

function ssh(fleet: Fleet, address: string, remote: string, knownHosts = fleet.knownHostsPath) {
  return run(
    [
      'ssh',
      '-n',
      '-i',
      fleet.identityPath,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=5',
      '-F',
      '/dev/null',
      `root@${address}`,
      remote,
    ],
    { allowFail: true },
  );
}

describe.skipIf(skip)('test fleet (root: namespaces, overlayfs, chroot)', () => {
  let fleet: Fleet;
  const name = fleetName();

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 3, log: (m) => console.log(m) });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('logs in with the generated key under strict host-key checking on every host', async () => {
    expect(fleet.hosts.map((h) => h.name)).toEqual(['mail1', 'mail2', 'mail3']);
    for (const h of fleet.hosts) {
      const r = await ssh(fleet, h.address, 'hostname; cat /etc/mailname');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${h.name}\n${h.name}\n`);
    }
    // The inventory plumb reads: group mailers, connection keys, the seed's relay vars.
    const inv = YAML.parse(readFileSync(fleet.inventoryPath, 'utf8'));
    const mailers = inv.all.children.mailers;
    expect(Object.keys(mailers.hosts)).toEqual(['mail1', 'mail2', 'mail3']);
    expect(mailers.hosts.mail2).toEqual({ host: fleet.hosts[1].address, port: 22, user: 'root', identity_file: fleet.identityPath });
    expect(mailers.vars).toEqual({ relay_host: fleet.relay.host, relay_port: 587, relay_account: fleet.relay.user, relay_tls_ca_path: '/etc/ssl/certs' });
    expect(readFileSync(fleet.inventoryPath, 'utf8')).not.toContain(fleet.relay.password);
    // Strictness is real: an empty known_hosts is refused.
    const dir = mkdtempSync(join(tmpdir(), 'fleet-kh-'));
    try {
      writeFileSync(join(dir, 'known_hosts'), '');
      const r = await ssh(fleet, fleet.hosts[0].address, 'true', join(dir, 'known_hosts'));
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Host key verification failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('installs postfix, libsasl2-modules and sasl2-bin from the offline repository with no network', async () => {
    // No route beyond the fleet subnet, and the offline repository is the only apt source.
    const routes = await fleet.exec('mail1', 'cat /proc/net/route');
    const destinations = routes.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[1]);
    expect(destinations).not.toContain('00000000');
    const sources = await fleet.exec('mail1', 'cat /etc/apt/sources.list; ls /etc/apt/sources.list.d');
    expect(sources.stdout.trim()).toBe('deb [trusted=yes] file:/srv/repo ./');
    // Exactly what a user types: no DEBIAN_FRONTEND, no terminal.
    const r = await fleet.exec('mail1', 'apt-get install -y postfix libsasl2-modules sasl2-bin </dev/null');
    expect(r.code, r.stderr).toBe(0);
    const check = await fleet.exec('mail1', "dpkg-query -W -f='${Status}\\n' postfix libsasl2-modules sasl2-bin; ls /usr/lib/x86_64-linux-gnu/sasl2/libplain.so");
    expect(check.stdout).toBe('install ok installed\n'.repeat(3) + '/usr/lib/x86_64-linux-gnu/sasl2/libplain.so\n');
  });

  it('starts postfix with its SysV script and it answers on port 25 inside its own namespace', async () => {
    const r = await fleet.exec('mail1', 'service postfix start');
    expect(r.code, r.stderr).toBe(0);
    const banner = async (address: string) => {
      const s = await Smtp.open(address, 25);
      try {
        return await s.reply();
      } finally {
        s.close();
      }
    };
    const b = await banner(fleet.hosts[0].address);
    expect(b.code).toBe(220);
    expect(b.text).toMatch(/^220 mail1 ESMTP Postfix/);
    // mail2 runs no postfix: port 25 there is another namespace's, and closed.
    await expect(banner(fleet.hosts[1].address)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('relay: refuses MAIL and AUTH without STARTTLS, MAIL without AUTH, a wrong password and LOGIN; accepts AUTH PLAIN', async () => {
    const { relay } = fleet;
    const ca = readFileSync(relay.caCertPath, 'utf8');
    const s = await Smtp.open(relay.host, relay.port);
    try {
      expect((await s.reply()).code).toBe(220);
      const ehlo = await s.cmd('EHLO tester');
      expect(ehlo.text).toMatch(/STARTTLS/);
      expect((await s.cmd('MAIL FROM:<a@plumb.test>')).code).toBe(530);
      expect((await s.cmd(`AUTH PLAIN ${plain(relay.user, relay.password)}`)).code).toBe(538); // STARTTLS first
      expect((await s.cmd('STARTTLS')).code).toBe(220);
      await s.startTls(ca, 'smtp.plumb.test'); // verified against caCertPath: it is the relay's certificate
      const ehlo2 = await s.cmd('EHLO tester');
      expect(ehlo2.text).toMatch(/AUTH PLAIN\r?\n/); // PLAIN only: LOGIN would hide a missing libplain.so
      expect((await s.cmd('MAIL FROM:<a@plumb.test>')).code).toBe(530);
      expect((await s.cmd('AUTH LOGIN')).code).toBe(504);
      expect((await s.cmd(`AUTH PLAIN ${plain(relay.user, 'wrong')}`)).code).toBe(535);
      expect((await s.cmd(`AUTH PLAIN ${plain(relay.user, relay.password)}`)).code).toBe(235);
      expect((await s.cmd('MAIL FROM:<tester@plumb.test>')).code).toBe(250);
      expect((await s.cmd('RCPT TO:<someone@example.com>')).code).toBe(250);
      expect((await s.cmd('DATA')).code).toBe(354);
      expect((await s.cmd('Subject: direct-test\r\n\r\nhello\r\n.')).code).toBe(250);
    } finally {
      s.close();
    }
    const m = await relay.waitForMessage((x) => x.raw.includes('Subject: direct-test'), 5000);
    expect(m).toMatchObject({ from: 'tester@plumb.test', to: ['someone@example.com'], mech: 'PLAIN', user: relay.user });
  });

  it("relays a message from a host's postfix configured by hand", async () => {
    const { relay } = fleet;
    const next = `[${relay.host}]:${relay.port}`;
    const setup = [
      command(
        'postconf',
        '-e',
        `relayhost=${next}`,
        'smtp_sasl_auth_enable=yes',
        'smtp_sasl_password_maps=hash:/etc/postfix/sasl_passwd',
        'smtp_sasl_security_options=noanonymous',
        'smtp_tls_security_level=encrypt',
        'smtp_tls_CApath=/etc/ssl/certs',
        'inet_protocols=ipv4',
      ),
      'umask 077 && cat > /etc/postfix/sasl_passwd',
      'postmap /etc/postfix/sasl_passwd',
      'service postfix restart',
    ].join(' && ');
    const r = await fleet.exec('mail1', setup, `${next} ${relay.user}:${relay.password}\n`);
    expect(r.code, r.stderr).toBe(0);
    const subject = `by-hand-${Date.now()}`;
    const send = await fleet.exec('mail1', command('sendmail', '-f', 'root@mail1', 'someone@example.com'), `Subject: ${subject}\n\nrelayed\n`);
    expect(send.code, send.stderr).toBe(0);
    const m = await relay.waitForMessage((x) => x.raw.includes(`Subject: ${subject}`), 30_000);
    expect(m).toMatchObject({ from: 'root@mail1', to: ['someone@example.com'], mech: 'PLAIN', user: relay.user });
    expect(m.raw).toMatch(/Received: by mail1 \(Postfix/);
  });

  it("keeps hosts apart: one host's files are not another's", async () => {
    expect((await fleet.exec('mail1', 'echo mine > /root/only-on-mail1')).code).toBe(0);
    expect((await fleet.exec('mail1', 'cat /root/only-on-mail1')).stdout).toBe('mine\n');
    expect((await fleet.exec('mail2', 'test -e /root/only-on-mail1')).code).toBe(1);
    expect((await fleet.exec('mail2', 'test -e /etc/postfix/main.cf')).code).toBe(1);
    expect((await fleet.exec('mail2', 'hostname')).stdout).toBe('mail2\n');
    // Each host has its own PID namespace: mail1's postfix is invisible (and unkillable) from mail2.
    expect((await fleet.exec('mail1', 'ps -eo comm=')).stdout.split('\n')).toContain('master');
    expect((await fleet.exec('mail2', 'ps -eo comm=')).stdout.trim().split('\n').sort()).toEqual(['plumb-fleet-ini', 'ps', 'sh', 'sshd']);
  });

  it('reset makes a host fresh with the same host key; sshd can be stopped and started', async () => {
    await fleet.reset('mail1');
    expect((await fleet.exec('mail1', 'test -e /root/only-on-mail1 || test -e /etc/postfix')).code).toBe(1);
    expect((await ssh(fleet, fleet.hosts[0].address, 'hostname')).stdout).toBe('mail1\n');
    await fleet.stopSshd('mail3');
    expect((await ssh(fleet, fleet.hosts[2].address, 'true')).stderr).toMatch(/Connection refused/);
    await fleet.startSshd('mail3');
    expect((await ssh(fleet, fleet.hosts[2].address, 'hostname')).stdout).toBe('mail3\n');
  });

  it('lets a second fleet with another name coexist, and its teardown leaves this one alone', async () => {
    await expect(startFleet({ hosts: 1, name })).rejects.toThrow(/already running/); // same name: refused, nothing touched
    const other = await startFleet({ hosts: 1, name: name.slice(0, 9) + 'y' });
    try {
      const k = (a: string) => a.split('.')[2];
      expect(k(other.hosts[0].address)).not.toBe(k(fleet.hosts[0].address));
      expect(other.relay.host).not.toBe(fleet.relay.host);
      expect((await ssh(other, other.hosts[0].address, 'hostname')).stdout).toBe('mail1\n');
    } finally {
      await other.stop();
    }
    expect((await ssh(fleet, fleet.hosts[0].address, 'hostname')).stdout).toBe('mail1\n');
    expect((await fleet.exec('mail2', 'hostname')).stdout).toBe('mail2\n');
  });

  it('leaves no mount, namespace, veth, bridge or process behind after stop', async () => {
    const state = readState(name)!;
    const n = names(name, state.k);
    const pids = (await run(['sh', '-c', `for ns in $(ip netns list | awk '{print $1}' | grep '^${name}-'); do ip netns pids $ns; done`])).stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(3); // the sshds at least
    await fleet.stop();
    await fleet.stop(); // idempotent
    expect(leftovers(name, n.bridge, n.stateDir)).toEqual({ mounts: [], netns: [], links: [], stateDir: false });
    // Killed children of this process are reaped once the event loop turns.
    for (let i = 0; i < 40 && pids.some((p) => existsSync(`/proc/${p}`)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter((p) => existsSync(`/proc/${p}`))).toEqual([]);
    // The relay no longer listens. (Checked with ss, not by connecting: without the
    // bridge, 10.233.x.x would route off the machine.)
    expect((await run(['ss', '-Hltn', 'src', fleet.relay.host])).stdout.trim()).toBe('');
  });

  it('down cleans up what a crashed (SIGKILLed) run left', async () => {
    const crashName = name.slice(0, 9) + 'x';
    const script = fileURLToPath(new URL('./fixtures/start-fleet-and-hang.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, crashName], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('UP') && resolve());
      child.once('exit', (code) => reject(new Error(`fleet child exited ${code} before it was up`)));
    });
    child.kill('SIGKILL'); // no exit handler runs
    await new Promise((r) => child.once('exit', r));
    const n = names(crashName, knownSubnet(crashName)!);
    expect(leftovers(crashName, n.bridge, n.stateDir).netns.length).toBe(1);
    teardownFleet(crashName);
    expect(leftovers(crashName, n.bridge, n.stateDir)).toEqual({ mounts: [], netns: [], links: [], stateDir: false });
  });
});

function leftovers(fleet: string, bridge: string, stateDir: string) {
  const sh = (c: string) => execSync(c, { encoding: 'utf8' });
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && m.startsWith(stateDir));
  const netns = sh('ip netns list')
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((x) => netnsPattern(fleet).test(x));
  const links = sh('ip -o link show')
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0])
    .filter((l): l is string => !!l && (l === bridge || vethPattern(fleet).test(l)));
  return { mounts, netns, links, stateDir: existsSync(stateDir) };
}
