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
import { economizeKeyExchange, ignoreHostKeyAnnouncements, signWithDecodedKey } from '../../src/transport/ssh2-economy.js';
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

/** How the direct ssh2 clients below log in to the test sshd, checking its host key. */
const loginToSshd = () => ({
  host: '127.0.0.1',
  port: sshd.port,
  username: userInfo().username,
  privateKey: readFileSync(key.path),
  hostVerifier: (k: Buffer) => k.equals(sshd.hostKeyBlob),
});

/** Runs `command` on a ready client, closes the client, and resolves with the command's stdout. */
function runAndClose(client: InstanceType<typeof Client>, command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d));
      stream.on('close', () => {
        client.end();
        resolve(out);
      });
      stream.end();
    }),
  );
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
      setTimeout(() => void runAndClose(client, 'echo ran').then((output) => resolve({ sent, hostkeysEvent, output }), reject), 300);
    });
    client.connect({
      ...loginToSshd(),
      debug: (m: string) => {
        if (m.startsWith('Outbound:') || m.startsWith('Inbound: GLOBAL_REQUEST')) sent.push(m);
      },
    });
    if (ignore) expect(ignoreHostKeyAnnouncements(client)).toBe(true);
  });
}

describe("OpenSSH's host-key announcement", { timeout: 120_000 }, () => {
  it('ssh2 on its own answers it with a proof request (what is being removed)', async () => {
    const r = await connectAndRun(false);
    expect(r.sent.some((m) => m.includes('hostkeys-prove-00@openssh.com'))).toBe(true);
    expect(r.sent).toContain('Inbound: GLOBAL_REQUEST (hostkeys-00@openssh.com)');
    expect(r.hostkeysEvent).toBe(true);
    expect(r.output).toBe('ran\n');
  });

  it('is ignored: no proof request, no event, and the connection works as before', async () => {
    const r = await connectAndRun(true);
    expect(r.sent.some((m) => m.includes('hostkeys-prove'))).toBe(false);
    // Dropped before ssh2 parses the keys in it (its handler would log it first).
    expect(r.sent.some((m) => m.startsWith('Inbound: GLOBAL_REQUEST'))).toBe(false);
    expect(r.hostkeysEvent).toBe(false);
    expect(r.output).toBe('ran\n');
  });
});

/** ssh2's shared key methods, reached as ssh2-economy.ts reaches them (through a parsed key's prototype). */
function sharedKeyMethods(): { verify: (...args: unknown[]) => unknown } {
  const parsed = utils.parseKey(readFileSync(`${key.path}.pub`));
  if (parsed instanceof Error) throw parsed;
  return Object.getPrototypeOf(parsed) as { verify: (...args: unknown[]) => unknown };
}

interface Handshake {
  error?: Error;
  /** Calls into ssh2's own PEM-based verify during the handshake. */
  pemVerifies: number;
  kex?: Record<string, unknown>;
}

/**
 * One handshake of an ssh2 client, wrapped or not, with an in-process ssh2 server whose host key
 * is `hostKey` (signing with `signer`, the same key unless a test swaps it).
 */
async function handshake(hostKey: ParsedKey, signer: ParsedKey, economize: boolean): Promise<Handshake> {
  const presented = Object.create(hostKey) as ParsedKey;
  presented.sign = ((data: Buffer, algo?: string) => signer.sign(data, algo)) as ParsedKey['sign'];
  const server = new ssh2.Server({ hostKeys: [{ key: presented as never }] }, (conn) => {
    conn.on('authentication', (ctx) => ctx.accept());
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const methods = sharedKeyMethods();
  const original = methods.verify;
  const out: Handshake = { pemVerifies: 0 };
  methods.verify = function (this: unknown, ...args: unknown[]) {
    out.pemVerifies++;
    return original.apply(this, args);
  };
  try {
    await new Promise<void>((resolve) => {
      const client = new Client();
      client.on('ready', () => {
        out.kex = (client as unknown as { _protocol: { _kex: Record<string, unknown> } })._protocol._kex;
        client.end();
        resolve();
      });
      client.on('error', (err) => {
        out.error = err;
        resolve();
      });
      client.connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, username: 'u', hostVerifier: () => true });
      if (economize) expect(economizeKeyExchange(client)).toBe(true);
    });
  } finally {
    methods.verify = original;
    await new Promise((resolve) => server.close(resolve));
  }
  return out;
}

describe('key exchange without OpenSSL codec round trips', { timeout: 60_000 }, () => {
  const hostKeyTypes: Array<{ type: string; bits?: string }> = [
    { type: 'ed25519' },
    { type: 'rsa' },
    { type: 'ecdsa', bits: '256' },
    { type: 'ecdsa', bits: '384' },
    { type: 'ecdsa', bits: '521' },
  ];
  for (const t of hostKeyTypes) {
    it(`${t.type}${t.bits ?? ''} host key: the signature is checked from the raw key, and a wrong one is refused`, async () => {
      const name = `host_${t.type}${t.bits ?? ''}`;
      const hostKey = parse(t.bits ? makeKeyWithBits(name, t.type, t.bits).path : makeKey(dir, name, t.type).path);
      const other = parse(t.bits ? makeKeyWithBits(`${name}_other`, t.type, t.bits).path : makeKey(dir, `${name}_other`, t.type).path);

      const good = await handshake(hostKey, hostKey, true);
      expect(good.error).toBeUndefined();
      expect(good.pemVerifies).toBe(0);

      const forged = await handshake(hostKey, other, true);
      expect(forged.error?.message).toMatch(/signature verification failed/);
      expect(forged.pemVerifies).toBe(0);

      // The same two handshakes with ssh2 alone: the same outcomes, through its PEM verify.
      const plainGood = await handshake(hostKey, hostKey, false);
      expect(plainGood.error).toBeUndefined();
      expect(plainGood.pemVerifies).toBe(1);
      const plainForged = await handshake(hostKey, other, false);
      expect(plainForged.error?.message).toMatch(/signature verification failed/);
    });
  }

  it("curve25519: the same public key bytes and shared secret as ssh2's own code", async () => {
    const hostKey = parse(makeKey(dir, 'host_x25519_check').path);
    const r = await handshake(hostKey, hostKey, true);
    expect(r.error).toBeUndefined();
    const kex = r.kex as { type: string; getPublicKey(): Buffer; computeSecret(p: Buffer): Buffer | Error };
    expect(kex.type).toBe('25519');
    const own = Object.getPrototypeOf(kex) as typeof kex;
    expect(Object.hasOwn(kex, 'getPublicKey')).toBe(true);
    expect(kex.getPublicKey().equals(own.getPublicKey.call(kex))).toBe(true);
    // Many peers, so that secrets with leading zero bytes and a high first bit (mpint encoding) come up.
    const { generateKeyPairSync } = await import('node:crypto');
    for (let i = 0; i < 300; i++) {
      const peer = Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
      const mine = kex.computeSecret(peer);
      expect(Buffer.isBuffer(mine) && mine.equals(own.computeSecret.call(kex, peer) as Buffer)).toBe(true);
    }
    expect(kex.computeSecret(Buffer.alloc(31, 9))).toBeInstanceOf(Error);
  });

  it('against OpenSSH: connects, runs a command, no PEM verify', async () => {
    const methods = sharedKeyMethods();
    const original = methods.verify;
    let pemVerifies = 0;
    methods.verify = function (this: unknown, ...args: unknown[]) {
      pemVerifies++;
      return original.apply(this, args);
    };
    try {
      const output = await new Promise<string>((resolve, reject) => {
        const client = new Client();
        client.on('error', reject);
        client.on('ready', () => void runAndClose(client, 'echo ran').then(resolve, reject));
        client.connect(loginToSshd());
        expect(economizeKeyExchange(client)).toBe(true);
        // As plumb connects; otherwise the host-key proof's verifications would be counted too.
        expect(ignoreHostKeyAnnouncements(client)).toBe(true);
      });
      expect(output).toBe('ran\n');
      expect(pemVerifies).toBe(0);
    } finally {
      methods.verify = original;
    }
  });
});
