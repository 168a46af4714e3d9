/**
 * The ssh transport against a real OpenSSH sshd on loopback (plus a second
 * one as a jump host). Logs in as the user running the tests.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryHost, Connection } from '../../src/inventory/model.js';
import { quote, ShellQuoteError } from '../../src/quote.js';
import { openTransport, type TransportOptions } from '../../src/transport/index.js';
import { fingerprint } from '../../src/transport/known-hosts.js';
import { TransportTimeoutError, UnreachableError, type Transport } from '../../src/transport/types.js';
import { failure, makeKey, startAgent, startSshd, tempDir, type Sshd } from './sshd.js';
import { HOSTILE_STRINGS } from '../hostile-strings.js';

const me = userInfo().username;
let sshd: Sshd;
let jump: Sshd;
let dir: string;
let key: { path: string; pub: string };
let knownHosts: string;
let t: Transport;

function host(connection: Connection, name = 'target'): InventoryHost {
  return { name, groups: ['all'], vars: {}, connection };
}
function direct(extra: Connection = {}): Connection {
  return { host: '127.0.0.1', port: sshd.port, user: me, identity_file: key.path, ...extra };
}
/** Jump hops get their identity from ssh config, as with `ssh -J`. */
function anyHostKeyConfig(): string {
  const file = join(dir, 'ssh_config_any');
  writeFileSync(file, `Host *\n  IdentityFile ${key.path}\n`);
  return file;
}
function opts(extra: TransportOptions = {}): TransportOptions {
  return { knownHostsFiles: [knownHosts], agentSocket: false, sshConfigFile: '/dev/null', ...extra };
}
function ancestors(pid: number): number[] {
  const chain: number[] = [];
  while (pid > 1) {
    pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    chain.push(pid);
  }
  return chain;
}

beforeAll(async () => {
  dir = tempDir();
  key = makeKey(dir, 'id_test');
  [sshd, jump] = await Promise.all([startSshd(), startSshd()]);
  sshd.authorize(me, [key.pub]);
  jump.authorize(me, [key.pub]);
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n[127.0.0.1]:${jump.port} ${jump.hostKeyPub}\n`);
  t = await openTransport(host(direct()), opts());
});

afterAll(async () => {
  await t?.close();
  await Promise.all([sshd?.stop(), jump?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// sshd runs root's login shell for every exec; on a machine whose root .bashrc is heavy (pyenv:
// ~90 ms an exec, far more under load) 200 execs need minutes, so the bound is generous.
describe('ssh transport: commands', { timeout: 300_000 }, () => {
  it('separates stdout and stderr and reports exit codes', async () => {
    expect(await t.exec('echo out; echo err >&2; exit 42')).toEqual({ code: 42, signal: null, stdout: 'out\n', stderr: 'err\n' });
    expect((await t.exec('true')).code).toBe(0);
    expect((await t.exec('exit 255')).code).toBe(255);
  });

  it('reports a command killed by a signal', async () => {
    const r = await t.exec('kill -TERM $$');
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('runs commands with /bin/sh semantics', async () => {
    const r = await t.exec('readlink /proc/$$/exe; [ -n "$BASH_VERSION" ] && echo bash || echo not-bash');
    expect(r.stdout).toContain('not-bash');
  });

  it('passes binary stdin byte for byte', async () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1 << 20)]);
    const r = await t.exec('sha256sum', { stdin: data });
    expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await t.exec('wc -c', { stdin: data })).stdout.trim()).toBe(String(data.length));
  });

  it('gives commands without stdin an immediate end of input', async () => {
    expect((await t.exec('cat; echo done', { timeoutMs: 5000 })).stdout).toBe('done\n');
  });

  it('returns 50 MB of output without holding it several times in memory', async () => {
    const size = 50 * 1024 * 1024;
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const r = await t.exec(`head -c ${size} /dev/zero | tr '\\0' a`);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(size);
    expect(r.stdout.startsWith('aaaa') && r.stdout.endsWith('aaaa')).toBe(true);
    // bytes + decoded parts + joined string would be ~150 MB; we stay well below.
    console.log(`50 MB output: rss grew ${Math.round((peak - before) / 1048576)} MB`);
    expect(peak - before).toBeLessThan(140 * 1024 * 1024);
  });

  it('runs 200 sequential commands on one connection', async () => {
    for (let i = 0; i < 200; i++) {
      const r = await t.exec(`echo ${i}`);
      expect(r.stdout).toBe(`${i}\n`);
    }
  });

  it('runs 30 concurrent commands on one connection through the channel limiter', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => t.exec(`sleep 0.05; echo ${i}`)));
    results.forEach((r, i) => expect(r.stdout).toBe(`${i}\n`));
  });

  it('without the limiter the server refuses channels above MaxSessions, with a clear error', async () => {
    const wide = await openTransport(host(direct()), opts({ maxChannels: 30 }));
    try {
      const settled = await Promise.allSettled(Array.from({ length: 30 }, () => wide.exec('sleep 0.3')));
      const rejected = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
      expect(rejected.length).toBeGreaterThan(0);
      expect(String(rejected[0].reason.message)).toMatch(/refused a new channel/);
    } finally {
      await wide.close();
    }
  });

  it('times out, kills the remote command and says what ran', async () => {
    const marker = `sleep 1234.${Date.now() % 1000}`;
    const err = await failure(t.exec(marker, { timeoutMs: 500, label: 'my slow task' }));
    expect(err).toBeInstanceOf(TransportTimeoutError);
    expect(err.message).toBe('timed out after 0.5 s running my slow task');
    const deadline = Date.now() + 5000;
    let running: string;
    do {
      await new Promise((r) => setTimeout(r, 100));
      running = execFileSync('ps', ['-eo', 'args'])
        .toString()
        .split('\n')
        .filter((l) => l.startsWith(marker))
        .join('\n');
    } while (running && Date.now() < deadline);
    expect(running).toBe('');
    // The connection is still usable afterwards.
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('uses the default command timeout from the options', async () => {
    const short = await openTransport(host(direct()), opts({ commandTimeoutMs: 300 }));
    try {
      expect(await failure(short.exec('sleep 5'))).toBeInstanceOf(TransportTimeoutError);
    } finally {
      await short.close();
    }
  });
});

describe('ssh transport: quoting through the real sshd', { timeout: 300_000 }, () => {
  const hostile = HOSTILE_STRINGS;
  it.each(hostile.map((s) => [s]))('%j arrives byte for byte', async (s) => {
    const r = await t.exec(`printf '%s' ${quote(s)}`);
    expect(r.stdout).toBe(s);
  });

  it('hostile file names and contents survive writeFile', async () => {
    const base = join(dir, 'hostile');
    mkdirSync(base, { recursive: true });
    for (const s of hostile.filter((h) => h !== '' && !h.includes('/'))) {
      const name = s === '.' || s === '..' ? `x${s}` : s.replace(/\n/g, 'NL');
      await t.writeFile(join(base, name), s);
      expect(readFileSync(join(base, name), 'utf8')).toBe(s);
    }
  });

  it('refuses NUL bytes with a clear error', async () => {
    await expect(t.exec('echo a\0b')).rejects.toThrow(ShellQuoteError);
    expect(() => quote('a\0b')).toThrow(/NUL/);
  });
});

describe('ssh transport: writeFile', { timeout: 300_000 }, () => {
  it('writes binary content with the requested mode, leaving no temp file', async () => {
    const target = join(dir, 'wf', 'bin.dat');
    mkdirSync(join(dir, 'wf'), { recursive: true });
    const data = randomBytes(300_000);
    await t.writeFile(target, data, { mode: '0640' });
    expect(readFileSync(target).equals(data)).toBe(true);
    expect((statSync(target).mode & 0o7777).toString(8)).toBe('640');
    expect(readdirSync(join(dir, 'wf'))).toEqual(['bin.dat']);
  });

  it.each([
    ['SFTP', {}],
    ['shell', { owner: me }],
  ])('keeps the existing mode when none is given, uses 0644 for new files, binary safe (%s path)', async (path, extra) => {
    const target = join(dir, 'wf', `keep-${path}`);
    await t.writeFile(target, 'one', { mode: '0600', ...extra });
    const data = randomBytes(70_000);
    await t.writeFile(target, data, extra);
    expect(readFileSync(target).equals(data)).toBe(true);
    expect((statSync(target).mode & 0o777).toString(8)).toBe('600');
    await t.writeFile(join(dir, 'wf', `fresh-${path}`), 'x', extra);
    expect((statSync(join(dir, 'wf', `fresh-${path}`)).mode & 0o777).toString(8)).toBe('644');
    await expect(t.writeFile(join(dir, 'nope', 'f'), 'x', extra)).rejects.toThrow(/writing .*nope\/f failed: .*No such file/);
    expect(readdirSync(join(dir, 'wf')).filter((f) => f.includes('.plumb-'))).toEqual([]);
  });

  // Needs root to chown; in CI it must run (and fail without root) rather than skip.
  it.skipIf(process.getuid?.() !== 0 && process.env.CI !== 'true')('sets owner and group before the rename (root)', async () => {
    const target = join(dir, 'wf', 'owned');
    await t.writeFile(target, 'x', { owner: 'nobody', group: 'nogroup', mode: '0604' });
    const st = statSync(target);
    expect(st.uid).toBe(Number(execFileSync('id', ['-u', 'nobody']).toString()));
    expect(st.gid).toBe(Number(execFileSync('getent', ['group', 'nogroup']).toString().split(':')[2]));
  });

  it('fails clearly and changes nothing for a missing directory, a directory target or a bad mode', async () => {
    await expect(t.writeFile(join(dir, 'nope', 'f'), 'x')).rejects.toThrow(/writing .*nope\/f failed: .*No such file/);
    mkdirSync(join(dir, 'wf', 'adir'), { recursive: true });
    await expect(t.writeFile(join(dir, 'wf', 'adir'), 'x')).rejects.toThrow(/failed/);
    expect(statSync(join(dir, 'wf', 'adir')).isDirectory()).toBe(true);
    await expect(t.writeFile(join(dir, 'wf', 'm'), 'x', { mode: '755' as string })).resolves.toBeUndefined();
    await expect(t.writeFile(join(dir, 'wf', 'm'), 'x', { mode: 'rwx' })).rejects.toThrow(/invalid mode/);
    await expect(t.writeFile('relative/path', 'x')).rejects.toThrow(/absolute path/);
    expect(readdirSync(join(dir, 'wf')).filter((f) => f.includes('.plumb-'))).toEqual([]);
  });

  // Plain writes go over SFTP; naming an owner takes the shell path (mktemp, cat, chown, mv).
  it.each([
    ['SFTP', {}],
    ['shell', { owner: me }],
  ])('is atomic (%s path): a concurrent reader only ever sees a whole old or whole new file', async (path, extra) => {
    const target = join(dir, 'wf', `atomic-${path}`);
    const size = 2 * 1024 * 1024;
    const versions = ['a', 'b'].map((c) => Buffer.alloc(size, c));
    await t.writeFile(target, versions[0]);
    let reads = 0;
    let bad = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const got = readFileSync(target);
        reads++;
        if (!(got.equals(versions[0]) || got.equals(versions[1]))) bad++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 20; i++) await t.writeFile(target, versions[i % 2 === 0 ? 1 : 0], extra);
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(20);
    expect(bad).toBe(0);
  });
});

describe('ssh transport: authentication', { timeout: 300_000 }, () => {
  it('authenticates with an ssh-agent the test started', async () => {
    const agent = await startAgent([key.path]);
    try {
      const viaAgent = await openTransport(host(direct({ identity_file: join(dir, 'absent') })), opts({ agentSocket: agent.socket }));
      expect((await viaAgent.exec('echo agent')).stdout).toBe('agent\n');
      await viaAgent.close();
    } finally {
      agent.stop();
    }
  });

  it('fails with the wrong key, naming the methods tried', async () => {
    const wrong = makeKey(dir, 'id_wrong');
    const err = await failure(openTransport(host(direct({ identity_file: wrong.path })), opts()));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(`authentication failed for ${me}@127.0.0.1:${sshd.port} (tried key ${wrong.path})`);
  });

  it('asks an encrypted key its passphrase once per key', async () => {
    const enc = makeKey(dir, 'id_enc', 'ecdsa', 'sekrit pass');
    sshd.authorize(me, [key.pub, enc.pub]);
    const asked: string[] = [];
    const o = opts({ passphrase: async (p) => (asked.push(p), 'sekrit pass') });
    const c1 = await openTransport(host(direct({ identity_file: enc.path })), o);
    const c2 = await openTransport(host(direct({ identity_file: enc.path })), o);
    expect((await c2.exec('echo enc')).stdout).toBe('enc\n');
    await Promise.all([c1.close(), c2.close()]);
    expect(asked).toEqual([enc.path]);
    const bad = await failure(openTransport(host(direct({ identity_file: enc.path })), opts({ passphrase: async () => 'nope' })));
    expect(bad.message).toBe(`wrong passphrase for identity file ${enc.path}`);
  });

  it('works with an rsa key too', async () => {
    const rsa = makeKey(dir, 'id_rsa_test', 'rsa');
    sshd.authorize(me, [key.pub, rsa.pub]);
    const c = await openTransport(host(direct({ identity_file: rsa.path })), opts());
    expect((await c.exec('echo rsa')).stdout).toBe('rsa\n');
    await c.close();
  });
});

describe('ssh transport: host keys', { timeout: 300_000 }, () => {
  const fp = () =>
    execFileSync('ssh-keygen', ['-l', '-f', join(sshd.dir, 'host_ed25519.pub')])
      .toString()
      .split(' ')[1];

  it('refuses an unknown host key, showing its SHA256 fingerprint and the way out', async () => {
    const empty = join(dir, 'kh-empty');
    writeFileSync(empty, '');
    const err = await failure(openTransport(host(direct()), opts({ knownHostsFiles: [empty] })));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain(`host key of [127.0.0.1]:${sshd.port} is not known (ssh-ed25519 ${fp()})`);
    expect(err.message).toContain('--accept-new-host-keys');
    expect(err.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1`);
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('refuses a changed host key loudly, expected vs got, and never records it', async () => {
    const other = makeKey(dir, 'other_host_key');
    const file = join(dir, 'kh-changed');
    const line = `[127.0.0.1]:${sshd.port} ${other.pub.split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(file, line);
    for (const accept of [false, true]) {
      const err = await failure(openTransport(host(direct()), opts({ knownHostsFiles: [file], acceptNewHostKeys: accept })));
      expect(err.message).toContain(`HOST KEY CHANGED for [127.0.0.1]:${sshd.port}`);
      expect(err.message).toContain(`expected ssh-ed25519 ${fingerprint(Buffer.from(other.pub.split(' ')[1], 'base64'))} (${file}:1)`);
      expect(err.message).toContain(`got ssh-ed25519 ${fp()}`);
      expect(readFileSync(file, 'utf8')).toBe(line);
    }
  });

  it('accepts hashed entries and [127.0.0.1]:port wildcards; negation excludes', async () => {
    const hashed = join(dir, 'kh-hashed');
    writeFileSync(hashed, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    const c = await openTransport(host(direct()), opts({ knownHostsFiles: [hashed] }));
    await c.close();
    const wild = join(dir, 'kh-wild');
    writeFileSync(wild, `[127.0.0.*]:${sshd.port} ${sshd.hostKeyPub}\n`);
    await (await openTransport(host(direct()), opts({ knownHostsFiles: [wild] }))).close();
    writeFileSync(wild, `[127.0.0.*]:${sshd.port},![127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    expect((await failure(openTransport(host(direct()), opts({ knownHostsFiles: [wild] })))).message).toMatch(/is not known/);
  });

  it('looks in several files and refuses @revoked keys', async () => {
    const f1 = join(dir, 'kh-1');
    const f2 = join(dir, 'kh-2');
    writeFileSync(f1, '');
    writeFileSync(f2, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    await (await openTransport(host(direct()), opts({ knownHostsFiles: [f1, f2] }))).close();
    writeFileSync(f1, `@revoked * ${sshd.hostKeyPub}\n`);
    expect((await failure(openTransport(host(direct()), opts({ knownHostsFiles: [f1, f2] })))).message).toMatch(/REVOKED/);
  });

  it('--accept-new-host-keys records first-seen keys, hashed when the file is hashed', async () => {
    const file = join(dir, 'kh-accept');
    writeFileSync(file, `somehost ${jump.hostKeyPub}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const c = await openTransport(host(direct()), opts({ knownHostsFiles: [file], acceptNewHostKeys: true }));
    await c.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('127.0.0.1');
    // OpenSSH itself finds the recorded entry.
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file]).toString()).toContain(sshd.hostKeyPub.split(' ')[1]);
    // And the next run (fresh options, no acceptance) trusts it.
    await (await openTransport(host(direct()), opts({ knownHostsFiles: [file] }))).close();
  });
});

describe('ssh transport: ssh config and jump hosts', { timeout: 300_000 }, () => {
  it('resolves an alias through ssh config (HostName, User, Port, IdentityFile)', async () => {
    const config = join(dir, 'ssh_config');
    writeFileSync(config, `Host web-*\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${me}\n  IdentityFile ${key.path}\n`);
    const c = await openTransport(host({}, 'web-1'), opts({ sshConfigFile: config }));
    expect((await c.exec('echo alias')).stdout).toBe('alias\n');
    await c.close();
  });

  it('lets inventory keys override ssh config', async () => {
    const config = join(dir, 'ssh_config_override');
    writeFileSync(config, `Host web\n  HostName 127.0.0.1\n  Port 1\n  User nobody-at-all\n  IdentityFile ${join(dir, 'absent')}\n`);
    const c = await openTransport(host({ port: sshd.port, user: me, identity_file: key.path }, 'web'), opts({ sshConfigFile: config }));
    await c.close();
    const err = await failure(openTransport(host({ user: me }, 'web'), opts({ sshConfigFile: config, connectRetries: 0 })));
    expect(err.message).toBe('connection refused by 127.0.0.1:1');
  });

  it('connects through a ProxyJump host from ssh config', async () => {
    const config = join(dir, 'ssh_config_jump');
    writeFileSync(
      config,
      `Host target\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  ProxyJump bastion\nHost bastion\n  HostName 127.0.0.1\n  Port ${jump.port}\nHost *\n  User ${me}\n  IdentityFile ${key.path}\n`,
    );
    const c = await openTransport(host({}, 'target'), opts({ sshConfigFile: config }));
    // The target's peer socket belongs to a process under the jump sshd, not to us.
    const clientPort = (await c.exec('echo $SSH_CONNECTION')).stdout.split(' ')[1];
    const owner = execFileSync('ss', ['-tnpH', 'state', 'established', `sport = :${clientPort}`]).toString();
    const pid = Number(/pid=(\d+)/.exec(owner)![1]);
    expect(pid).not.toBe(process.pid);
    expect(ancestors(pid)).toContain(jump.pid);
    await c.close();
  });

  it('follows a chain of jump hosts named in the inventory, checking every hop', async () => {
    const hostsByName = new Map([['bastion', host({ host: '127.0.0.1', port: jump.port, user: me, identity_file: key.path }, 'bastion')]]);
    const chain = `bastion,${me}@127.0.0.1:${jump.port}`;
    const c = await openTransport(host(direct({ jump: chain })), opts({ hostsByName, sshConfigFile: anyHostKeyConfig() }));
    expect((await c.exec('echo through')).stdout).toBe('through\n');
    await c.close();

    // Only the target's key known: the first hop must be refused.
    const onlyTarget = join(dir, 'kh-only-target');
    writeFileSync(onlyTarget, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    const err = await failure(openTransport(host(direct({ jump: chain })), opts({ hostsByName, knownHostsFiles: [onlyTarget], sshConfigFile: anyHostKeyConfig() })));
    expect(err.message).toMatch(new RegExp(`^jump host bastion: host key of \\[127\\.0\\.0\\.1\\]:${jump.port} is not known`));
  });

  it('says which jump host could not reach the next one', async () => {
    const closed = await (await import('./sshd.js')).freePort();
    const err = await failure(
      openTransport(
        host({ host: '127.0.0.1', port: closed, user: me, identity_file: key.path, jump: `${me}@127.0.0.1:${jump.port}` }),
        opts({ sshConfigFile: anyHostKeyConfig() }),
      ),
    );
    expect(err.message).toMatch(new RegExp(`could not open a connection to 127\\.0\\.0\\.1:${closed}`));
  });
});

describe('ssh transport: connection failures', { timeout: 300_000 }, () => {
  it('retries refused connections with backoff, then gives one clear line', async () => {
    const closed = await (await import('./sshd.js')).freePort();
    const started = Date.now();
    const err = await failure(openTransport(host(direct({ port: closed })), opts({ connectRetries: 2 })));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(`connection refused by 127.0.0.1:${closed} (after 3 attempts)`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700); // 250 + 500 ms of backoff
  });

  it('fails only the host whose sshd goes away, with one line', async () => {
    const lone = await startSshd();
    lone.authorize(me, [key.pub]);
    const kh = join(dir, 'kh-lone');
    writeFileSync(kh, `[127.0.0.1]:${lone.port} ${lone.hostKeyPub}\n`);
    const c = await openTransport(host(direct({ port: lone.port })), opts({ knownHostsFiles: [kh] }));
    const running = c.exec('sleep 30', { label: 'long task' });
    await new Promise((r) => setTimeout(r, 300));
    // Kill the per-connection sshd child too: the server side of this session disappears.
    execFileSync('pkill', ['-KILL', '-P', String(lone.pid)]);
    const err = await failure(running);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/^connection lost \(.*\) while running long task$/);
    expect(err.message).not.toContain('\n');
    await lone.stop();
    // Other connections are unaffected.
    expect((await t.exec('echo alive')).stdout).toBe('alive\n');
    expect(existsSync(lone.dir)).toBe(false);
  });
});
