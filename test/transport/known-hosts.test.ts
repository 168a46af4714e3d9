import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprint, KnownHosts, knownHostsName, matchPatternList, parseKnownHosts } from '../../src/transport/known-hosts.js';
import { makeKey, tempDir } from './sshd.js';
import { rmSync } from 'node:fs';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a = makeKey(dir, 'a');
const b = makeKey(dir, 'b', 'ecdsa');
const blob = (pub: string) => Buffer.from(pub.split(' ')[1], 'base64');
const typeAndKey = (pub: string) => pub.split(' ').slice(0, 2).join(' ');

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('known_hosts', () => {
  it('prints SHA256 fingerprints exactly like ssh-keygen -l', () => {
    const expected = execFileSync('ssh-keygen', ['-l', '-f', a.path + '.pub'])
      .toString()
      .split(' ')[1];
    expect(fingerprint(blob(a.pub))).toBe(expected);
  });

  it('uses [host]:port for ports other than 22', () => {
    expect(knownHostsName('Web.Example', 22)).toBe('web.example');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('matches comma lists, wildcards and negation like OpenSSH', () => {
    expect(matchPatternList('web1', ['db', 'web?'])).toBe(true);
    expect(matchPatternList('web12', ['web?'])).toBe(false);
    expect(matchPatternList('[10.0.0.7]:2222', ['[10.0.0.*]:2222'])).toBe(true);
    expect(matchPatternList('10.0.0.7', ['10.0.0.*', '!10.0.0.7'])).toBe(false);
    expect(matchPatternList('10.0.0.8', ['10.0.0.*', '!10.0.0.7'])).toBe(true);
    expect(matchPatternList('only-negated', ['!other'])).toBe(false);
  });

  it('finds plain, listed and [host]:port entries and reports changed keys', () => {
    const file = write('plain', `# comment\n\nweb,db ${typeAndKey(a.pub)}\n[127.0.0.1]:2222 ${typeAndKey(b.pub)} c\n`);
    const kh = new KnownHosts([file]);
    expect(kh.verify('db', 22, blob(a.pub)).status).toBe('known');
    expect(kh.verify('127.0.0.1', 2222, blob(b.pub)).status).toBe('known');
    expect(kh.verify('127.0.0.1', 22, blob(b.pub)).status).toBe('unknown');
    const changed = kh.verify('web', 22, blob(b.pub));
    expect(changed.status).toBe('changed');
    if (changed.status === 'changed') expect(changed.expected[0].line).toBe(3);
  });

  it('matches hashed entries written by ssh-keygen -H', () => {
    const file = write('hashed', `[127.0.0.1]:2222 ${typeAndKey(a.pub)}\nweb ${typeAndKey(b.pub)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).not.toContain('127.0.0.1');
    const kh = new KnownHosts([file]);
    expect(kh.verify('127.0.0.1', 2222, blob(a.pub)).status).toBe('known');
    expect(kh.verify('web', 22, blob(b.pub)).status).toBe('known');
    expect(kh.verify('web', 22, blob(a.pub)).status).toBe('changed');
    expect(kh.verify('other', 22, blob(a.pub)).status).toBe('unknown');
  });

  it('refuses @revoked keys and ignores @cert-authority lines', () => {
    const file = write('revoked', `@revoked * ${typeAndKey(a.pub)}\nweb ${typeAndKey(a.pub)}\n@cert-authority * ${typeAndKey(b.pub)}\n`);
    const kh = new KnownHosts([file]);
    expect(kh.verify('web', 22, blob(a.pub)).status).toBe('revoked');
    expect(kh.verify('web', 22, blob(b.pub)).status).toBe('changed');
    expect(parseKnownHosts(readFileSync(file, 'utf8'), file)).toHaveLength(3);
  });

  it('reads several files', () => {
    const f1 = write('several1', `other ${typeAndKey(b.pub)}\n`);
    const f2 = write('several2', `web ${typeAndKey(a.pub)}\n`);
    const kh = new KnownHosts([f1, join(dir, 'missing'), f2]);
    expect(kh.verify('web', 22, blob(a.pub)).status).toBe('known');
    expect(kh.verify('other', 22, blob(b.pub)).status).toBe('known');
  });

  it('records new keys plainly or hashed, in a form OpenSSH itself finds', () => {
    const plain = write('add-plain', `other ${typeAndKey(b.pub)}`); // no trailing newline on purpose
    new KnownHosts([plain]).add('127.0.0.1', 2200, blob(a.pub), plain);
    expect(readFileSync(plain, 'utf8')).toBe(`other ${typeAndKey(b.pub)}\n[127.0.0.1]:2200 ${typeAndKey(a.pub)}\n`);
    expect(execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', plain]).toString()).toContain(a.pub.split(' ')[1]);

    const hashed = write('add-hashed', `other ${typeAndKey(b.pub)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    const kh = new KnownHosts([hashed]);
    kh.add('127.0.0.1', 2200, blob(a.pub), hashed);
    const text = readFileSync(hashed, 'utf8');
    expect(text).not.toContain('127.0.0.1');
    expect(text.trim().split('\n').pop()).toMatch(/^\|1\|/);
    expect(execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', hashed]).toString()).toContain(a.pub.split(' ')[1]);
    expect(kh.verify('127.0.0.1', 2200, blob(a.pub)).status).toBe('known');
    expect(new KnownHosts([hashed]).verify('127.0.0.1', 2200, blob(a.pub)).status).toBe('known');
  });
});
