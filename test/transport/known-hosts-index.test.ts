/**
 * KnownHosts looks names up through an index (plain names in a map, the rest tested
 * line by line, each hashed line's name remembered once it matched: issue 16). The
 * answers must be the ones a scan of every line in file order gives; the scan here is
 * written out from the rules (OpenSSH's match_hostname and |1|salt|hmac names).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KnownHosts, knownHostsName, matchPatternList, parseKnownHosts, type KnownHostEntry } from '../../src/transport/known-hosts.js';
import { tempDir } from './sshd.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A well-formed key blob of `type` whose bytes say which key it is. */
function blob(type: string, id: number): Buffer {
  const name = Buffer.from(type);
  const out = Buffer.alloc(4 + name.length + 4 + 32);
  out.writeUInt32BE(name.length, 0);
  name.copy(out, 4);
  out.writeUInt32BE(32, 4 + name.length);
  out.writeUInt32BE(id, 8 + name.length);
  return out;
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const line = (hosts: string, type: string, id: number, marker = '') => `${marker}${hosts} ${type} ${blob(type, id).toString('base64')}`;

/** Every line matching `name`, in file order, as a plain scan finds them. */
function scan(entries: KnownHostEntry[], name: string): KnownHostEntry[] {
  return entries.filter((e) => {
    if (e.marker) return false;
    if (e.hashed) return createHmac('sha1', e.hashed.salt).update(name).digest().equals(e.hashed.hash);
    return matchPatternList(name, e.patterns!);
  });
}

describe('known_hosts lookups through the index', () => {
  const lines = [
    line('mx1.example.net,10.0.0.1', 'ssh-ed25519', 1),
    line(hashed('[mx2.example.net]:2222'), 'ssh-ed25519', 2),
    line('*.example.net,!mx3.example.net', 'ecdsa-sha2-nistp256', 3),
    line('MX1.Example.NET', 'ssh-rsa', 4),
    line('[mx2.example.net]:2222', 'ssh-rsa', 5),
    line('mx?.example.org', 'ssh-ed25519', 6),
    line('mx1.example.net', 'ssh-ed25519', 7, '@revoked '),
    line('mx4.example.org', 'ssh-ed25519', 8, '@cert-authority '),
    line(hashed('mx1.example.net'), 'ecdsa-sha2-nistp256', 9),
    line('mx1.example.net,mx1.example.net', 'ssh-ed25519', 10),
    line(hashed('mx4.example.org'), 'ssh-ed25519', 11),
  ];
  const file = join(dir, 'known_hosts_mixed');
  writeFileSync(file, lines.join('\n') + '\n');
  const entries = parseKnownHosts(lines.join('\n'), file);
  const hosts: Array<[string, number]> = [
    ['mx1.example.net', 22],
    ['MX1.example.net', 22],
    ['mx2.example.net', 2222],
    ['mx2.example.net', 22],
    ['mx3.example.net', 22],
    ['mx5.example.net', 22],
    ['mx4.example.org', 22],
    ['mx10.example.org', 22],
    ['10.0.0.1', 22],
    ['nowhere.example.com', 22],
  ];

  it('finds the same lines in the same order as a scan: key types, and the verdict for every key', () => {
    const known = new KnownHosts([file]);
    // Twice: the second round answers from what the first one remembered.
    for (let round = 0; round < 2; round++) {
      for (const [host, port] of hosts) {
        const expected = scan(entries, knownHostsName(host, port));
        expect(known.knownKeyTypes(host, port), `${host}:${port}`).toEqual([...new Set(expected.map((e) => e.keyType))]);
        for (let id = 1; id <= 12; id++) {
          const type = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa'][id % 3];
          for (const key of [blob(type, id), blob('ssh-ed25519', id), blob('ecdsa-sha2-nistp256', id), blob('ssh-rsa', id)]) {
            const verdict = known.verify(host, port, key);
            if (id === 7 && key.equals(blob('ssh-ed25519', 7))) {
              expect(verdict.status).toBe('revoked');
              continue;
            }
            const exact = expected.find((e) => e.key.equals(key));
            if (exact) expect(verdict).toMatchObject({ status: 'known', entry: { line: exact.line } });
            else if (expected.length) expect(verdict.status === 'changed' && verdict.expected.map((e) => e.line)).toEqual(expected.map((e) => e.line));
            else expect(verdict.status).toBe('unknown');
          }
        }
      }
    }
  });

  it('a key recorded during the run is found at once (in-memory record, /dev/null)', () => {
    const known = new KnownHosts([file]);
    expect(known.verify('new.example.com', 22, blob('ssh-ed25519', 99)).status).toBe('unknown');
    known.add('new.example.com', 22, blob('ssh-ed25519', 99), '/dev/null');
    expect(known.verify('new.example.com', 22, blob('ssh-ed25519', 99)).status).toBe('known');
    expect(known.knownKeyTypes('new.example.com', 22)).toEqual(['ssh-ed25519']);
    expect(known.verify('new.example.com', 22, blob('ssh-ed25519', 98)).status).toBe('changed');
  });
});
