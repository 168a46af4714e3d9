/**
 * The seed job (postfix relaying through a Gmail stand-in) end to end on real
 * Debian hosts: fresh plan → apply → no-op → drift → mail → faults.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { killConnections } from './kill-connections.js';
import { plumb, repoRoot, startPlumb, type PlumbRun } from './plumb.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('seed e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

const PLAYBOOK = 'playbooks/postfix-gmail-relay.yaml';
const SEED_KEYS = [
  'relayhost',
  'smtp_sasl_auth_enable',
  'smtp_sasl_password_maps',
  'smtp_sasl_security_options',
  'smtp_sasl_tls_security_options',
  'smtp_tls_security_level',
  'smtp_tls_CApath',
  'inet_protocols',
];
const PLAIN_SO = '/usr/lib/x86_64-linux-gnu/sasl2/libplain.so';

describe.skipIf(!runE2E)('seed job on the fleet', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  const outputs: PlumbRun[] = [];
  let env: NodeJS.ProcessEnv;
  const main = ['mail1', 'mail2', 'mail3'];

  const run = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = await plumb([...args, '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath], { ...env, ...extraEnv });
    outputs.push(r);
    return r;
  };
  const sh = (host: string, cmd: string) => fleet.sh(host, cmd);
  const masterPid = (host: string) => sh(host, 'cat /var/spool/postfix/pid/master.pid');
  const hostSection = (planOut: string, host: string) => {
    const lines = planOut.split('\n');
    const start = lines.findIndex((l) => l.startsWith(`${host} (`));
    if (start < 0) return '';
    const end = lines.findIndex((l, i) => i > start && l === '');
    return lines.slice(start, end < 0 ? undefined : end).join('\n');
  };

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 5 });
    env = { GMAIL_APP_PASSWORD: fleet.relay.password };
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it('plans every change on fresh hosts and exits 2', async () => {
    const r = await run(['plan', PLAYBOOK, '--limit', main.join(':')]);
    expect(r.code, r.stderr).toBe(2);
    for (const host of main) {
      const section = hostSection(r.stdout, host);
      expect(section).toMatch(/install postfix/);
      expect(section).toMatch(/libsasl2-modules/);
      expect(section).toMatch(/sasl2-bin/);
      expect(section).toMatch(/Relay settings|postconf/);
      expect(section).toMatch(/sasl_passwd/);
      expect(section).toMatch(/handler postmap sasl_passwd — will run/);
      expect(section).toMatch(/handler restart postfix — (will|may) run/);
    }
    expect(r.stdout).not.toMatch(/^mail4 \(/m);
  });

  it('applies the seed: postfix runs with every key, sasl_passwd is 0600 root, the map is built', async () => {
    const r = await run(['apply', PLAYBOOK, '--limit', main.join(':')]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const host of main) {
      const conf = await sh(host, 'postconf -n');
      for (const key of SEED_KEYS) expect(conf).toMatch(new RegExp(`^${key} = `, 'm'));
      expect(conf).toMatch(/^inet_protocols = ipv4$/m);
      expect(conf).toMatch(new RegExp(`^relayhost = \\[${fleet.relay.host.replace(/\./g, '\\.')}\\]:587$`, 'm'));
      expect(await sh(host, 'stat -c "%a %U %G" /etc/postfix/sasl_passwd')).toBe('600 root root');
      expect(await sh(host, 'test -f /etc/postfix/sasl_passwd.db && echo yes')).toBe('yes');
      expect(await sh(host, 'kill -0 "$(cat /var/spool/postfix/pid/master.pid)" && echo running')).toBe('running');
    }
  });

  it('a second apply changes nothing: no postmap, no restart, and plan exits 0', async () => {
    const pids = await Promise.all(main.map(masterPid));
    const maps = await Promise.all(main.map((h) => sh(h, 'stat -c %Y.%Z /etc/postfix/sasl_passwd.db')));
    const r = await run(['apply', PLAYBOOK, '--limit', main.join(':')]);
    expect(r.code, r.stderr).toBe(0);
    for (const host of main) expect(r.stdout).toMatch(new RegExp(`^${host}\\s+ok\\s+\\d+\\s+0\\s+0\\s+0`, 'm'));
    expect(await Promise.all(main.map(masterPid))).toEqual(pids);
    expect(await Promise.all(main.map((h) => sh(h, 'stat -c %Y.%Z /etc/postfix/sasl_passwd.db')))).toEqual(maps);
    const p = await run(['plan', PLAYBOOK, '--limit', main.join(':')]);
    expect(p.code, p.stdout + p.stderr).toBe(0);
  });

  it('drift: plan shows exactly what drifted, apply repairs it, the next plan is clean', async () => {
    await sh('mail1', `rm -f ${PLAIN_SO}`);
    await sh('mail2', 'postconf -e inet_protocols=all');
    await sh('mail3', "printf '[x]:587 someone:else\\n' > /etc/postfix/sasl_passwd");
    const p = await run(['plan', PLAYBOOK, '--limit', main.join(':')]);
    expect(p.code, p.stderr).toBe(2);
    const s1 = hostSection(p.stdout, 'mail1');
    const s2 = hostSection(p.stdout, 'mail2');
    const s3 = hostSection(p.stdout, 'mail3');
    expect(s1).toMatch(/reinstall libsasl2-modules.*libplain\.so/);
    expect(s1.split('\n').filter((l) => /^\s+[~?!]/.test(l))).toHaveLength(1);
    expect(s2).toMatch(/inet_protocols: all → ipv4/);
    expect(s2).toMatch(/handler restart postfix — will run/);
    expect(s2.split('\n').filter((l) => /^\s+[~?!]/.test(l))).toHaveLength(2);
    expect(s3).toMatch(/sasl_passwd/);
    expect(s3).toMatch(/content changed \(secret\)/);
    expect(s3).toMatch(/handler postmap sasl_passwd — will run/);
    expect(s3).toMatch(/handler restart postfix — will run/);
    expect(s3.split('\n').filter((l) => /^\s+[~?!]/.test(l))).toHaveLength(3);

    const before = await masterPid('mail2');
    const a = await run(['apply', PLAYBOOK, '--limit', main.join(':')]);
    expect(a.code, a.stderr).toBe(0);
    expect(await sh('mail1', `test -f ${PLAIN_SO} && echo present`)).toBe('present');
    expect(await sh('mail2', 'postconf -h inet_protocols')).toBe('ipv4');
    expect(await masterPid('mail2')).not.toBe(before);
    expect(await sh('mail3', 'cat /etc/postfix/sasl_passwd')).toContain(fleet.relay.user);
    const again = await run(['plan', PLAYBOOK, '--limit', main.join(':')]);
    expect(again.code, again.stdout).toBe(0);
  });

  it('mail from a converged host reaches the stand-in relay after STARTTLS and AUTH PLAIN', async () => {
    const subject = `plumb-e2e-${Date.now()}`;
    await sh('mail1', `printf 'Subject: ${subject}\\n\\nhello\\n' | /usr/sbin/sendmail -f root@mail1 someone@example.com`);
    await sh('mail1', 'postqueue -f || true');
    const msg = await fleet.relay.waitForMessage((m) => m.raw.includes(subject), 60_000);
    expect(msg.mech).toBe('PLAIN');
    expect(msg.user).toBe(fleet.relay.user);
  });

  it('never prints the app password, in any output', () => {
    expect(outputs.length).toBeGreaterThan(5);
    for (const o of outputs) {
      expect(o.stdout).not.toContain(fleet.relay.password);
      expect(o.stderr).not.toContain(fleet.relay.password);
    }
  });

  it('an unreachable host does not stop the others: exit 4, shown in the recap', async () => {
    await fleet.stopSshd('mail5');
    try {
      const r = await run(['apply', PLAYBOOK, '--connect-timeout', '3']);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stdout).toMatch(/^mail5\s+unreachable/m);
      expect(r.stdout).toMatch(/^mail4\s+changed/m);
      for (const host of main) expect(r.stdout).toMatch(new RegExp(`^${host}\\s+ok`, 'm'));
      expect(await sh('mail4', 'postconf -h inet_protocols')).toBe('ipv4');
    } finally {
      await fleet.startSshd('mail5');
    }
  });

  it('a host whose apt fails is failed alone: exit 1, the others converge', async () => {
    // A dpkg hook that fails makes every package installation on this host fail.
    await sh('mail5', `echo 'DPkg::Pre-Invoke { "echo plumb-e2e: dpkg refused >&2; false"; };' > /etc/apt/apt.conf.d/99plumb-e2e-broken`);
    try {
      const r = await run(['apply', PLAYBOOK]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^mail5\s+failed/m);
      for (const host of [...main, 'mail4']) expect(r.stdout).toMatch(new RegExp(`^${host}\\s+ok`, 'm'));
    } finally {
      await sh('mail5', 'rm -f /etc/apt/apt.conf.d/99plumb-e2e-broken');
    }
  });

  it('a connection killed mid-apply: no half-written file, and the next apply still runs the owed handlers', async () => {
    // The seed playbook plus a slow task right after sasl_passwd is written, so the
    // connection is cut after the change and before the handlers, every time.
    const doc = parseDocument(readFileSync(join(repoRoot, PLAYBOOK), 'utf8'));
    const tasks = doc.getIn([0, 'tasks']) as YAMLSeq;
    const at = tasks.items.findIndex((t) => (t as YAMLMap).getIn(['copy', 'dest']) === '/etc/postfix/sasl_passwd');
    expect(at).toBeGreaterThanOrEqual(0);
    tasks.items.splice(at + 1, 0, doc.createNode({ name: 'slow step', shell: 'sleep 20', changed_when: false }));
    const dir = mkdtempSync(join(tmpdir(), 'plumb-e2e-'));
    const slow = join(dir, 'slow.yaml');
    writeFileSync(slow, doc.toString());

    const first = await run(['apply', PLAYBOOK, '--limit', 'mail5']);
    expect(first.code, first.stderr).toBe(0);
    await sh('mail5', "printf 'stale\\n' > /etc/postfix/sasl_passwd");
    const before = await masterPid('mail5');
    const running = startPlumb(['apply', slow, '--limit', 'mail5', '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath], env);
    await running.waitFor(/mail5: changed Gmail credentials/);
    expect(killConnections(fleet.name, 'mail5').length).toBeGreaterThan(0);
    const cut = await running.done;
    outputs.push(cut);
    expect(cut.code).not.toBe(0);
    expect(cut.stdout).toMatch(/^mail5\s+(unreachable|failed)/m);
    // The file was replaced whole (rename), and the restart did not happen yet.
    expect(await sh('mail5', 'cat /etc/postfix/sasl_passwd')).toContain(fleet.relay.user);
    expect(await masterPid('mail5')).toBe(before);

    // Owed handlers belong to the playbook that owes them (its path, play name and position):
    // the same file, edited back to the seed playbook in place, still runs them.
    writeFileSync(slow, readFileSync(join(repoRoot, PLAYBOOK), 'utf8'));
    const next = await run(['apply', slow, '--limit', 'mail5']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/mail5: changed handler postmap sasl_passwd/);
    expect(next.stderr).toMatch(/mail5: changed handler restart postfix/);
    expect(await masterPid('mail5')).not.toBe(before);
    const clean = await run(['plan', PLAYBOOK, '--limit', 'mail5']);
    expect(clean.code, clean.stdout).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});
