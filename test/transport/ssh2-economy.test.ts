/**
 * The work taken out of ssh2's connections (src/transport/ssh2-economy.ts):
 * signatures from a key decoded once are the same signatures, and OpenSSH's
 * host-key announcement is no longer answered with a proof request, against
 * a real sshd. Host keys are still checked at key exchange (ssh.test.ts,
 * run-caches.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ignoreHostKeyAnnouncements, signWithDecodedKey } from '../../src/transport/ssh2-economy.js';
import { makeKey, startSshd, tempDir, type Sshd } from './sshd.js';

const { Client, utils } = ssh2;
let dir: string;
let sshd: Sshd;
let key: { path: string; pub: string };

beforeAll(async () => {
  dir = tempDir();
  sshd = await startSshd();
  key = makeKey(dir, 'id_economy');
  sshd.authorize(userInfo().username, [key.pub]);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function parse(path: string, passphrase?: string): ParsedKey {
  const parsed = utils.parseKey(readFileSync(path), passphrase);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

describe('signing with a key decoded once', () => {
  const data = Buffer.from('session id and userauth request, as ssh2 would sign them');
  const cases: Array<{ type: string; bits?: string; algos: Array<string | undefined>; deterministic: boolean }> = [
    { type: 'ed25519', algos: [undefined], deterministic: true },
    { type: 'rsa', algos: [undefined, 'sha256', 'sha512'], deterministic: true },
    { type: 'ecdsa', bits: '256', algos: [undefined], deterministic: false },
    { type: 'ecdsa', bits: '384', algos: [undefined], deterministic: false },
    { type: 'ecdsa', bits: '521', algos: [undefined], deterministic: false },
  ];
  for (const c of cases) {
    it(`${c.type}${c.bits ?? ''}: signatures ssh2 itself verifies${c.deterministic ? ', byte for byte the ones it made' : ''}`, () => {
      const name = `id_${c.type}${c.bits ?? ''}`;
      const { path } = c.bits ? makeKeyWithBits(name, c.type, c.bits) : makeKey(dir, name, c.type);
      const original = parse(path);
      const fast = signWithDecodedKey(original);
      expect(fast).not.toBe(original);
      expect(fast.getPublicSSH().equals(original.getPublicSSH())).toBe(true);
      for (const algo of c.algos) {
        const signature = fast.sign(data, algo);
        expect(signature).toBeInstanceOf(Buffer);
        expect(original.verify(data, signature, algo)).toBe(true);
        expect(original.verify(Buffer.from('something else'), signature, algo)).toBe(false);
        if (c.deterministic) expect(signature.equals(original.sign(data, algo))).toBe(true);
      }
    });
  }

  it('an encrypted key, decrypted once, signs the same', () => {
    const { path } = makeKey(dir, 'id_enc_economy', 'ed25519', 'economy pass');
    const original = parse(path, 'economy pass');
    const signature = signWithDecodedKey(original).sign(data);
    expect(signature.equals(original.sign(data))).toBe(true);
  });

  it('a public key only is returned as it is', () => {
    const pub = utils.parseKey(readFileSync(`${key.path}.pub`));
    if (pub instanceof Error) throw pub;
    expect(signWithDecodedKey(pub)).toBe(pub);
  });
});

function makeKeyWithBits(name: string, type: string, bits: string): { path: string } {
  const path = `${dir}/${name}`;
  // makeKey has no -b: ecdsa sizes need it
  execFileSync('ssh-keygen', ['-q', '-t', type, '-b', bits, '-N', '', '-f', path]);
  return { path };
}

/** Connects with ssh2 directly; what it sent, per its debug log, and whether it emitted 'hostkeys'. */
function connectAndRun(ignore: boolean): Promise<{ sent: string[]; hostkeysEvent: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const sent: string[] = [];
    let hostkeysEvent = false;
    client.on('hostkeys', () => (hostkeysEvent = true));
    client.on('error', reject);
    client.on('ready', () => {
      // The announcement comes right after authentication; give it time to arrive and be answered.
      setTimeout(() => {
        client.exec('echo ran', (err, stream) => {
          if (err) return reject(err);
          let output = '';
          stream.on('data', (d: Buffer) => (output += d));
          stream.on('close', () => {
            client.end();
            resolve({ sent, hostkeysEvent, output });
          });
          stream.end();
        });
      }, 300);
    });
    client.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: userInfo().username,
      privateKey: readFileSync(key.path),
      hostVerifier: (k: Buffer) => k.equals(sshd.hostKeyBlob),
      debug: (m: string) => {
        if (m.startsWith('Outbound:')) sent.push(m);
      },
    });
    if (ignore) expect(ignoreHostKeyAnnouncements(client)).toBe(true);
  });
}

describe("OpenSSH's host-key announcement", { timeout: 120_000 }, () => {
  it('ssh2 on its own answers it with a proof request (what is being removed)', async () => {
    const r = await connectAndRun(false);
    expect(r.sent.some((m) => m.includes('hostkeys-prove-00@openssh.com'))).toBe(true);
    expect(r.hostkeysEvent).toBe(true);
    expect(r.output).toBe('ran\n');
  });

  it('is ignored: no proof request, no event, and the connection works as before', async () => {
    const r = await connectAndRun(true);
    expect(r.sent.some((m) => m.includes('hostkeys-prove'))).toBe(false);
    expect(r.hostkeysEvent).toBe(false);
    expect(r.output).toBe('ran\n');
  });
});
