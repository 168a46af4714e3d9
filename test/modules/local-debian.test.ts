/**
 * apt, postconf and service probes against the real Debian tools on this
 * machine, without touching the machine's own packages or services:
 * - apt: a tiny .deb built with dpkg-deb is installed into a temp dpkg root;
 *   `dpkg` and `dpkg-query` on PATH are wrappers that add --root, so the
 *   module's real probe snippet reads real dpkg-query and dpkg --verify output.
 * - postconf: a real postconf (installed, or extracted from the postfix .deb)
 *   reads and edits a temp config directory through MAIL_CONFIG.
 * - service: the probe of a real /etc/init.d script and of a missing one.
 * The full plan → apply → plan on real hosts is the fleet conformance suite's job.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeContext } from './context.js';
import { applyAll, plan } from './local.js';

const has = (cmd: string) => spawnSync('/bin/sh', ['-c', `command -v ${cmd}`]).status === 0;
const debian = has('dpkg-deb') && has('dpkg-query');

describe.skipIf(!debian)('apt against a real dpkg database (temp root; needs dpkg-deb)', () => {
  let dir: string;
  let root: string;
  let deb: string;
  let env: NodeJS.ProcessEnv;
  const lib = '/usr/lib/plumbtest/sasl2/libplain.so';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-apt-'));
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
    mkdirSync(join(pkg, 'usr/lib/plumbtest/sasl2'), { recursive: true });
    mkdirSync(join(pkg, 'etc/plumbtest'), { recursive: true });
    writeFileSync(
      join(pkg, 'DEBIAN/control'),
      'Package: plumb-test-sasl\nVersion: 1.0-1\nArchitecture: all\nMaintainer: plumb <plumb@localhost>\nDescription: plumb test package\n',
    );
    writeFileSync(join(pkg, 'DEBIAN/conffiles'), '/etc/plumbtest/plumb.conf\n');
    writeFileSync(join(pkg, lib), 'plain\n');
    writeFileSync(join(pkg, 'usr/lib/plumbtest/sasl2/liblogin.so'), 'login\n');
    writeFileSync(join(pkg, 'etc/plumbtest/plumb.conf'), 'setting=1\n');
    deb = join(dir, 'plumb-test-sasl.deb');
    execFileSync('dpkg-deb', ['--root-owner-group', '-b', pkg, deb], { stdio: 'pipe' });

    root = join(dir, 'root');
    mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['dpkg', 'dpkg-query']) {
      const real = execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      writeFileSync(join(bin, tool), `#!/bin/sh\nexec ${real} --root=${root} "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const install = () => execFileSync('dpkg', ['--force-script-chrootless', '--force-not-root', '-i', deb], { env, stdio: 'pipe' });

  it('an unknown package is to be installed', () => {
    const [p] = plan([{ module: 'apt', args: { name: ['plumb-test-sasl'], verify: true } }], fakeContext(), env);
    expect(p.probed).toEqual({ known: true, state: { status: { 'plumb-test-sasl': { status: null, version: null } }, verify: { 'plumb-test-sasl': [] } } });
    expect(p.changes.map((c) => c.summary)).toEqual(['install plumb-test-sasl']);
  });

  it('installed and intact → ok; a deleted library → reinstall naming the file; an edited conffile alone → ok', () => {
    install();
    const task = { module: 'apt' as const, args: { name: 'plumb-test-sasl', verify: true } };
    expect(plan([task], fakeContext(), env)[0].changes).toEqual([]);

    writeFileSync(join(root, 'etc/plumbtest/plumb.conf'), 'setting=2\n');
    expect(plan([task], fakeContext(), env)[0].changes).toEqual([]);

    unlinkSync(join(root, lib));
    const [p] = plan([task], fakeContext(), env);
    expect(p.changes.map((c) => c.summary)).toEqual([`reinstall plumb-test-sasl: ${lib} missing`]);
    const steps = stepsOf(p);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toContain('install --reinstall -- plumb-test-sasl');
    expect(steps[0]).toContain('DEBIAN_FRONTEND=noninteractive');

    // apt-get cannot run against a temp root; dpkg -i of the same .deb is what the reinstall does underneath.
    install();
    expect(existsSync(join(root, lib))).toBe(true);
    expect(plan([task], fakeContext(), env)[0].changes).toEqual([]);
    // The admin's conffile edit survived (confold).
    expect(readFileSync(join(root, 'etc/plumbtest/plumb.conf'), 'utf8')).toBe('setting=2\n');
  });

  /** The module's steps as command lines, without running them. */
  function stepsOf(p: ReturnType<typeof plan>[number]): string[] {
    if (!p.probed.known) throw new Error(p.probed.reason);
    return p.steps.map((s) => (s.kind === 'exec' ? s.command : s.path));
  }
});

/** A postconf binary: the machine's own, or one extracted from the postfix .deb (downloaded from the configured mirror). */
function findPostconf(work: string): { env: NodeJS.ProcessEnv } | { skip: string } {
  if (has('postconf')) return { env: { ...process.env } };
  const dl = spawnSync('apt-get', ['download', 'postfix'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  const debs = dl.status === 0 ? execFileSync('/bin/sh', ['-c', 'ls postfix_*.deb'], { cwd: work, encoding: 'utf8' }).trim() : '';
  if (!debs) return { skip: `no postconf and apt-get download postfix failed: ${(dl.stderr ?? '').trim().split('\n').pop()}` };
  execFileSync('dpkg-deb', ['-x', join(work, debs), join(work, 'x')]);
  return {
    env: {
      ...process.env,
      PATH: `${join(work, 'x/usr/sbin')}:${process.env.PATH}`,
      LD_LIBRARY_PATH: join(work, 'x/usr/lib/postfix'),
    },
  };
}

describe.skipIf(!debian)('postconf against a real postconf (temp config directory)', () => {
  let work: string;
  let found: ReturnType<typeof findPostconf>;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'plumb-postconf-'));
    found = findPostconf(work);
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('plan shows the seed keys, apply sets them with postconf -e, the next plan is empty', (t) => {
    if ('skip' in found) return t.skip(found.skip);
    const conf = join(work, 'conf');
    mkdirSync(conf);
    writeFileSync(join(conf, 'main.cf'), 'biff = no\ninet_protocols = all\n');
    writeFileSync(join(conf, 'master.cf'), '');
    const env = { ...found.env, MAIL_CONFIG: conf };
    const task = {
      module: 'postconf' as const,
      args: {
        relayhost: '[smtp.gmail.com]:587',
        inet_protocols: 'ipv4',
        smtp_sasl_auth_enable: true,
        smtp_sasl_password_maps: 'hash:/etc/postfix/sasl_passwd',
        smtp_sasl_security_options: 'noanonymous',
        smtp_tls_security_level: 'encrypt',
        smtp_tls_CApath: '/etc/ssl/certs',
      },
    };
    const ctx = fakeContext();
    const first = plan([task], ctx, env);
    expect(first[0].changes.map((c) => c.summary)).toEqual([
      'set relayhost: (empty) → [smtp.gmail.com]:587',
      'set inet_protocols: all → ipv4',
      'set smtp_sasl_auth_enable: no → yes',
      'set smtp_sasl_password_maps: (empty) → hash:/etc/postfix/sasl_passwd',
      'set smtp_sasl_security_options: noplaintext, noanonymous → noanonymous',
      'set smtp_tls_security_level: (empty) → encrypt',
      'set smtp_tls_CApath: (empty) → /etc/ssl/certs',
    ]);
    applyAll(first, ctx, env);
    expect(readFileSync(join(conf, 'main.cf'), 'utf8')).toContain('relayhost = [smtp.gmail.com]:587');
    expect(plan([task], ctx, env)[0].changes).toEqual([]);
  });

  it('a misspelt key is unknown with the reason', (t) => {
    if ('skip' in found) return t.skip(found.skip);
    const conf = join(work, 'conf2');
    mkdirSync(conf);
    writeFileSync(join(conf, 'main.cf'), '');
    const [p] = plan([{ module: 'postconf', args: { relay_host: 'x' } }], fakeContext(), { ...found.env, MAIL_CONFIG: conf });
    expect(p.probed).toEqual({ known: false, reason: 'postconf does not know parameter relay_host (misspelt, or not in this Postfix version)' });
  });

  it('without postconf on PATH the probe says postfix is not installed', () => {
    const [p] = plan([{ module: 'postconf', args: { relayhost: 'x' } }], fakeContext(), { PATH: '/nonexistent' });
    expect(p.probed).toEqual({ known: false, reason: 'postconf is not installed' });
  });
});

describe('service probe on this machine (read-only)', () => {
  const systemd = existsSync('/run/systemd/system');
  const script = ['ssh', 'procps', 'dbus', 'cron'].find((n) => existsSync(`/etc/init.d/${n}`));

  it.skipIf(systemd || script === undefined)('a SysV script is found and its status and S links are read', () => {
    const [p] = plan([{ module: 'service', args: { name: script as string, enabled: true } }], fakeContext());
    expect(p.probed.known).toBe(true);
    if (p.probed.known) {
      const service = p.probed.state.service as { init: string; enabled: boolean };
      expect(service.init).toBe('sysv');
      const links = ['2', '3', '4', '5'].some((l) => spawnSync('/bin/sh', ['-c', `ls /etc/rc${l}.d/S??${script}`]).status === 0);
      expect(service.enabled).toBe(links);
    }
  });

  it('a service without unit or init script is unknown', () => {
    const [p] = plan([{ module: 'service', args: { name: 'plumb-no-such-service', state: 'started' } }], fakeContext());
    expect(p.probed).toMatchObject({ known: false });
  });
});
