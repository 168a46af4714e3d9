/**
 * Issue 10, class 8: concurrent `--accept-new-host-keys` runs must never write
 * a key twice. Several real processes load known_hosts (all find the keys
 * unknown), then record the same keys at the same moment, directly or by
 * connecting to a real sshd on loopback. Afterwards each key is in the file
 * exactly once. Also: a lock left by a dead process is taken over, and a lock
 * held too long is an error naming the lock file.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHosts, parseKnownHosts } from '../../src/transport/known-hosts.js';
import { makeKey, startSshd, tempDir, type Sshd } from './sshd.js';

const dir = tempDir('plumb-kh-race-');
const RACERS = 8;
const blob = (pub: string) => Buffer.from(pub.split(' ')[1], 'base64');
const keys = ['k1', 'k2', 'k3'].map((k, i) => makeKey(dir, k, i === 2 ? 'ecdsa' : 'ed25519'));
const entries = keys.map((k, i) => ({ host: `10.233.99.${i + 1}`, port: i === 0 ? 22 : 2200 + i, key: k.pub.split(' ')[1] }));
let run = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Start RACERS processes on `job`, release them together, wait for all; resolves with their failures. */
async function race(job: Record<string, unknown>): Promise<string[]> {
  const id = run++;
  const go = join(dir, `go-${id}`);
  const ready = (i: number) => join(dir, `ready-${id}-${i}`);
  const exits = Array.from({ length: RACERS }, (_, i) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('test/transport/known-hosts-racer.ts'), JSON.stringify({ ...job, go, ready: ready(i) })], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, HOME: dir },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    return new Promise<string | undefined>((done) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        done(code === 0 ? undefined : `racer ${i} exited ${code}: ${stderr.trim()}`);
      }),
    );
  });
  const deadline = Date.now() + 60_000;
  while (!Array.from({ length: RACERS }, (_, i) => existsSync(ready(i))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('racers did not get ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  writeFileSync(go, '');
  return (await Promise.all(exits)).filter((e): e is string => e !== undefined);
}

/** How many entries of the file hold this key (plain or hashed), and how many lines it has. */
function count(file: string, key: Buffer): number {
  return parseKnownHosts(readFileSync(file, 'utf8'), file).filter((e) => e.key.equals(key)).length;
}
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;

describe('known_hosts: concurrent recording', { timeout: 180_000 }, () => {
  it(`${RACERS} processes recording the same 3 new keys write each exactly once (plain names)`, async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, `other.example ${keys[0].pub.split(' ').slice(0, 2).join(' ')}\n`);
    expect(await race({ mode: 'add', file, entries })).toEqual([]);
    for (const k of keys) expect(count(file, blob(k.pub))).toBe(k === keys[0] ? 2 : 1); // k1 was already there for other.example
    expect(lines(file)).toBe(1 + keys.length);
    // OpenSSH finds each recorded host.
    for (const e of entries) expect(execFileSync('ssh-keygen', ['-F', e.port === 22 ? e.host : `[${e.host}]:${e.port}`, '-f', file]).toString()).toContain(e.key);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it(`${RACERS} processes racing on a hashed file write each key exactly once, hashed`, async () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `other.example ${keys[0].pub.split(' ').slice(0, 2).join(' ')}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(await race({ mode: 'add', file, entries })).toEqual([]);
    expect(lines(file)).toBe(1 + keys.length);
    expect(readFileSync(file, 'utf8')).not.toContain('10.233.99');
    const kh = new KnownHosts([file]);
    for (const e of entries) expect(kh.verify(e.host, e.port, Buffer.from(e.key, 'base64')).status).toBe('known');
  });

  it(`${RACERS} processes racing into a known_hosts that does not exist yet create it with one line per key`, async () => {
    const file = join(dir, 'sub', 'dir', 'known_hosts');
    expect(await race({ mode: 'add', file, entries })).toEqual([]);
    expect(lines(file)).toBe(keys.length);
    for (const k of keys) expect(count(file, blob(k.pub))).toBe(1);
  });

  describe('against a real sshd on loopback', () => {
    let sshd: Sshd;
    const user = makeKey(dir, 'id_user');
    beforeAll(async () => {
      sshd = await startSshd();
      sshd.authorize(process.env.USER ?? execFileSync('id', ['-un']).toString().trim(), [user.pub]);
    });
    afterAll(async () => sshd?.stop());

    it(`${RACERS} plumb connections with --accept-new-host-keys record the host key once`, async () => {
      const file = join(dir, 'sshd-known_hosts');
      writeFileSync(file, '');
      expect(await race({ mode: 'connect', file, port: sshd.port, identity: user.path })).toEqual([]);
      expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    });
  });
});

describe('known_hosts lock', () => {
  const key = blob(keys[1].pub);

  it('a lock left by a process that no longer exists is taken over', () => {
    const file = join(dir, 'stale');
    writeFileSync(file, '');
    const dead = spawnDeadPid();
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: dead, host: hostname() }));
    new KnownHosts([file]).add('stale.example', 22, key, file);
    expect(count(file, key)).toBe(1);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('a lock held longer than the bounded wait is an error naming the lock file; nothing is written', () => {
    const file = join(dir, 'held');
    writeFileSync(file, '');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname() }));
    const started = Date.now();
    expect(() => new KnownHosts([file]).add('held.example', 22, key, file, { lockWaitMs: 300 })).toThrow(`${file}.lock`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(existsSync(`${file}.lock`)).toBe(true); // someone else's lock is left alone
  });

  it('a key another run recorded meanwhile is not appended again (re-read under the lock)', () => {
    const file = join(dir, 'meanwhile');
    writeFileSync(file, '');
    const mine = new KnownHosts([file]);
    new KnownHosts([file]).add('meanwhile.example', 22, key, file);
    mine.add('meanwhile.example', 22, key, file);
    expect(lines(file)).toBe(1);
    expect(mine.verify('meanwhile.example', 22, key).status).toBe('known');
  });

  it('a different key another run recorded meanwhile for the same host is refused, not added beside it', () => {
    const file = join(dir, 'changed-meanwhile');
    writeFileSync(file, '');
    const mine = new KnownHosts([file]);
    new KnownHosts([file]).add('mitm.example', 22, blob(keys[0].pub), file);
    expect(() => mine.add('mitm.example', 22, key, file)).toThrow(/HOST KEY CHANGED for mitm\.example: another run recorded a different key/);
    expect(lines(file)).toBe(1);
    expect(mine.verify('mitm.example', 22, key).status).toBe('unknown');
  });

  it('/dev/null as the known_hosts file: the key is trusted for this run, nothing is locked or written', () => {
    const kh = new KnownHosts(['/dev/null']);
    kh.add('null.example', 22, key, '/dev/null');
    expect(kh.verify('null.example', 22, key).status).toBe('known');
    expect(existsSync('/dev/null.lock')).toBe(false);
  });
});

/** The PID of a process that has exited (and been reaped). */
function spawnDeadPid(): number {
  return Number(execFileSync('/bin/sh', ['-c', 'sh -c "echo \\$\\$" ']).toString().trim());
}
