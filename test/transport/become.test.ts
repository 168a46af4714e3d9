/**
 * become via sudo against a real sshd and real sudo: test users and a sudoers
 * file are created as root and removed afterwards. Needs root; in CI it must
 * run, so it fails instead of skipping there.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryHost } from '../../src/inventory/model.js';
import { openTransport, type TransportOptions } from '../../src/transport/index.js';
import { BecomeError, TransportTimeoutError } from '../../src/transport/types.js';
import { makeKey, startSshd, tempDir, type Sshd } from './sshd.js';

const isRoot = process.getuid?.() === 0;
const inCI = process.env.CI === 'true';
if (inCI && !isRoot) {
  describe('become (sudo)', () => {
    it('needs root in CI to create test users and a sudoers entry', () => {
      throw new Error('CI=true but not running as root: the become tests cannot run');
    });
  });
}

const suffix = randomBytes(3).toString('hex');
const nopw = `plumb_np_${suffix}`;
const withpw = `plumb_pw_${suffix}`;
const nosudo = `plumb_ns_${suffix}`;
const password = `pw with spaces '"$(id) ${suffix}`;
const sudoers = `/etc/sudoers.d/plumb-test-${suffix}`;

describe.skipIf(!isRoot)('become (sudo) — needs root to create users; skipped when not root outside CI', () => {
  let sshd: Sshd;
  let dir: string;
  let key: { path: string; pub: string };
  let knownHosts: string;
  const created: string[] = [];

  const host = (user: string): InventoryHost => ({
    name: `as-${user}`,
    groups: ['all'],
    vars: {},
    connection: { host: '127.0.0.1', port: sshd.port, user, identity_file: key.path },
  });
  const opts = (extra: TransportOptions = {}): TransportOptions => ({
    knownHostsFiles: [knownHosts],
    agentSocket: false,
    sshConfigFile: '/dev/null',
    ...extra,
  });

  beforeAll(async () => {
    dir = tempDir();
    chmodSync(dir, 0o755);
    key = makeKey(dir, 'id_become');
    chmodSync(key.path, 0o600);
    sshd = await startSshd();
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    for (const user of [nopw, withpw, nosudo]) {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', user]);
      created.push(user);
      sshd.authorize(user, [key.pub]);
    }
    // Unlocked accounts (sshd without PAM refuses locked ones); only withpw has a usable password.
    execFileSync('usermod', ['-p', '*', nopw]);
    execFileSync('usermod', ['-p', '*', nosudo]);
    execFileSync('chpasswd', { input: `${withpw}:${password}\n` });
    writeFileSync(sudoers, `${nopw} ALL=(ALL) NOPASSWD: ALL\n${withpw} ALL=(ALL) ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-f', sudoers], { stdio: 'ignore' });
  });

  afterAll(async () => {
    rmSync(sudoers, { force: true });
    for (const user of created) {
      try {
        execFileSync('userdel', ['-r', '-f', user], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs commands as root and as another user with passwordless sudo', async () => {
    const t = await openTransport(host(nopw), opts());
    try {
      expect((await t.exec('id -un')).stdout).toBe(`${nopw}\n`);
      expect((await t.exec('id -un', { become: true })).stdout).toBe('root\n');
      expect((await t.exec('id -un', { become: 'nobody' })).stdout).toBe('nobody\n');
      expect((await t.exec('cat', { become: true, stdin: 'a\nb\n' })).stdout).toBe('a\nb\n');
    } finally {
      await t.close();
    }
  });

  it('fails fast with a clear message when sudo wants a password and none is given', async () => {
    const t = await openTransport(host(withpw), opts());
    try {
      const started = Date.now();
      const err = await t.exec('id -un', { become: true }).catch((e) => e);
      expect(err).toBeInstanceOf(BecomeError);
      expect(err.message).toBe('become failed: sudo needs a password to run commands as root (use --ask-become-pass or set become_password_env)');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await t.close();
    }
  });

  it('sends the password on stdin only: the command keeps its own stdin, argv never shows it', async () => {
    let asked = 0;
    const t = await openTransport(host(withpw), opts({ becomePassword: async () => (asked++, password) }));
    try {
      expect((await t.exec('id -un', { become: true })).stdout).toBe('root\n');
      const data = Buffer.concat([Buffer.from('first line\n'), randomBytes(100_000)]);
      // sudo takes exactly the password line; the command gets its stdin intact.
      expect((await t.exec('cat', { become: true, stdin: 'first line\nsecond\n' })).stdout).toBe('first line\nsecond\n');
      expect((await t.exec('sha256sum', { become: true, stdin: data })).stdout.split(' ')[0]).toBe(execFileSync('sha256sum', { input: data }).toString().split(' ')[0]);
      // While a become command runs, no process's argv contains the password.
      const running = t.exec('sleep 1.5', { become: true });
      await new Promise((r) => setTimeout(r, 700));
      const leaks: string[] = [];
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          if (readFileSync(`/proc/${pid}/cmdline`).includes(Buffer.from(password))) leaks.push(pid);
        } catch {
          // process ended
        }
      }
      expect(leaks).toEqual([]);
      await running;
      expect(asked).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('writes files as root through sudo with a password, mode and owner set, binary safe', async () => {
    const target = join(dir, 'root-only', 'secret.bin');
    mkdirSync(join(dir, 'root-only'), { mode: 0o700 });
    const t = await openTransport(host(withpw), opts({ becomePassword: async () => password }));
    try {
      const data = randomBytes(200_000);
      await t.writeFile(target, data, { become: true, mode: '0640', owner: nopw, group: 'root' });
      expect(readFileSync(target).equals(data)).toBe(true);
      const st = statSync(target);
      expect((st.mode & 0o777).toString(8)).toBe('640');
      expect(st.uid).toBe(Number(execFileSync('id', ['-u', nopw]).toString()));
      expect(st.gid).toBe(0);
      // Without become the same write is refused, and nothing is left behind.
      await expect(t.writeFile(target, 'x')).rejects.toThrow(/writing .* failed: .*Permission denied/);
      expect(readdirSync(join(dir, 'root-only'))).toEqual(['secret.bin']);
    } finally {
      await t.close();
    }
  });

  it('reports a wrong password without echoing it', async () => {
    const t = await openTransport(host(withpw), opts({ becomePassword: async () => 'wrong password 123' }));
    try {
      const err = await t.exec('true', { become: true }).catch((e) => e);
      expect(err).toBeInstanceOf(BecomeError);
      expect(err.message).toBe('become failed: sudo rejected the become password');
      // Every later become command fails the same way, fast.
      await expect(t.exec('true', { become: true })).rejects.toThrow(/rejected/);
    } finally {
      await t.close();
    }
  });

  it('reports a user that may not use sudo', async () => {
    const t = await openTransport(host(nosudo), opts({ becomePassword: async () => 'anything' }));
    try {
      const err = await t.exec('true', { become: true }).catch((e) => e);
      expect(err).toBeInstanceOf(BecomeError);
      expect(err.message).toMatch(/^become failed: /);
      expect(err.message).not.toContain('anything');
      expect(err.message).not.toContain('\n');
    } finally {
      await t.close();
    }
  });

  it('kills a timed-out root command', async () => {
    const t = await openTransport(host(nopw), opts());
    try {
      const marker = `sleep 2345.${Date.now() % 1000}`;
      await expect(t.exec(marker, { become: true, timeoutMs: 500 })).rejects.toBeInstanceOf(TransportTimeoutError);
      const deadline = Date.now() + 5000;
      let left = '';
      do {
        await new Promise((r) => setTimeout(r, 100));
        left = execFileSync('ps', ['-eo', 'args'])
          .toString()
          .split('\n')
          .filter((l) => l.startsWith(marker))
          .join('\n');
      } while (left && Date.now() < deadline);
      expect(left).toBe('');
    } finally {
      await t.close();
    }
  });
});
