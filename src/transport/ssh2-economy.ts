/**
 * Work ssh2 does on every connection that plumb does not need, removed
 * without changing what is checked. Measured with `perf` at 500 simulated
 * hosts (bench/scale.ts): re-reading the identity's PEM text on every
 * signature was ~5% of the controller's CPU, the host-key proof ~5%, the
 * key exchange's round trips through OpenSSL's PEM/DER codecs ~6%.
 */
import { createPrivateKey, createPublicKey, diffieHellman, sign as cryptoSign, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import ssh2, { type Client, type ParsedKey } from 'ssh2';

/**
 * ssh2 signs with the key's PEM text, which OpenSSL 3 decodes again for every
 * signature (~0.4 ms each). The same signature from a key decoded once: same
 * algorithm, same bytes signed, same private key. Key types whose default
 * digest we do not know keep ssh2's own signing.
 */
export function signWithDecodedKey(parsed: ParsedKey): ParsedKey {
  // The digest ssh2 uses when the caller names none (RFC 4253, 5656, 8709); rsa-sha2 callers name theirs.
  const defaults: Record<string, string | null> = {
    'ssh-ed25519': null,
    'ssh-rsa': 'sha1',
    'ecdsa-sha2-nistp256': 'sha256',
    'ecdsa-sha2-nistp384': 'sha384',
    'ecdsa-sha2-nistp521': 'sha512',
  };
  const pem = parsed.isPrivateKey() ? parsed.getPrivatePEM() : null;
  if (!pem || !(parsed.type in defaults)) return parsed;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return parsed;
  }
  const fallback = defaults[parsed.type];
  const fast = Object.create(parsed) as ParsedKey;
  fast.sign = ((data: Buffer | string, algo?: string) => {
    try {
      return cryptoSign(algo || fallback, typeof data === 'string' ? Buffer.from(data) : data, key);
    } catch (err) {
      // ssh2 expects an Error returned, not thrown
      return err;
    }
  }) as ParsedKey['sign'];
  return fast;
}

type GlobalRequestHandler = (protocol: unknown, name: string, wantReply: boolean, data: unknown) => void;

/**
 * After authentication OpenSSH's sshd announces all its host keys
 * (`hostkeys-00@openssh.com`, RFC-less OpenSSH extension, never with want-reply)
 * so that a client can learn new ones (ssh's UpdateHostKeys). ssh2 answers
 * every announcement with a `hostkeys-prove-00` request — a round trip, a
 * signature per key on the server and a verification per key here — only to
 * emit a 'hostkeys' event plumb does not listen to. Ignoring the announcement
 * is what OpenSSH's ssh does with UpdateHostKeys=no: the key the connection
 * was verified with (known_hosts, at key exchange) is untouched; plumb never
 * learns or records keys from this message, with or without the proof.
 *
 * ssh2 has no option for it: its handler table is wrapped. If that internal
 * shape ever changes, nothing is wrapped and ssh2's own behaviour stays.
 */
export function ignoreHostKeyAnnouncements(client: Client): boolean {
  const protocol = (client as unknown as { _protocol?: ProtocolInternals })._protocol;
  const handlers = protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!protocol || !handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name === 'hostkeys-00@openssh.com' && !wantReply) return;
    original(p, name, wantReply, data);
  };
  skipAnnouncementParsing(protocol);
  return true;
}

interface ProtocolInternals {
  _handlers?: Record<string, GlobalRequestHandler | undefined>;
  _onPayload?: (payload: Buffer) => unknown;
  _onPacket?: () => void;
  _kex?: { negotiated?: { sc?: { compress?: string } } };
}

const GLOBAL_REQUEST = 80;
const ANNOUNCEMENT = Buffer.from('hostkeys-00@openssh.com');

/**
 * Before the handler above sees the announcement, ssh2 has already parsed every key
 * in it (each made into PEM text: sshd announces all its host keys, RSA included).
 * The message is dropped before that parsing — after ssh2's own per-packet
 * bookkeeping — when it is exactly an announcement without want-reply and the
 * server's packets are not compressed (then its bytes are read as they are).
 */
function skipAnnouncementParsing(protocol: ProtocolInternals): void {
  const onPayload = protocol._onPayload;
  const onPacket = protocol._onPacket;
  if (typeof onPayload !== 'function' || typeof onPacket !== 'function') return;
  protocol._onPayload = (payload: Buffer) => {
    if (protocol._kex?.negotiated?.sc?.compress === 'none' && isAnnouncementWithoutReply(payload)) {
      onPacket();
      return undefined;
    }
    return onPayload(payload);
  };
}

/** byte 80, string "hostkeys-00@openssh.com", boolean false (RFC 4254 4, OpenSSH PROTOCOL 2.5). */
function isAnnouncementWithoutReply(payload: Buffer): boolean {
  const nameEnd = 5 + ANNOUNCEMENT.length;
  return (
    payload.length > nameEnd &&
    payload[0] === GLOBAL_REQUEST &&
    payload.readUInt32BE(1) === ANNOUNCEMENT.length &&
    payload.subarray(5, nameEnd).equals(ANNOUNCEMENT) &&
    payload[nameEnd] === 0
  );
}

/** The parts of ssh2's curve25519 key exchange (lib/protocol/kex.js) replaced per connection. */
interface Curve25519Kex {
  type: string;
  _keys: { publicKey: KeyObject; privateKey: KeyObject } | null;
  generateKeys(): void;
  getPublicKey(): Buffer;
  computeSecret(peer: Buffer): Buffer | Error;
  finish(...args: unknown[]): unknown;
}

type Verify = (this: ParsedKey, data: Buffer, signature: Buffer, algo?: string) => boolean | Error;

/**
 * ssh2's key exchange does its curve25519 and host-key work through OpenSSL's
 * encoders and decoders, on every connection: its public key exported as DER
 * (twice), the server's imported from DER it builds, and the server's host key
 * re-read from PEM text for the one signature check (~0.35 ms per connection
 * together). The same operations on raw keys: the same key pair, the same
 * shared secret, the same signature check against the same key — only the
 * codec round trips go. Every connection still verifies its own host key; no
 * key is kept from one connection to the next.
 *
 * ssh2 has no hook for this: the protocol's key-exchange object is wrapped as
 * ssh2 creates it (also on a re-key). If that internal shape ever changes,
 * nothing is wrapped and ssh2's own code runs.
 */
export function economizeKeyExchange(client: Client): boolean {
  const protocol = (client as unknown as { _protocol?: Record<string, unknown> })._protocol;
  if (!protocol || !('_kex' in protocol) || !Object.getOwnPropertyDescriptor(protocol, '_kex')?.writable) return false;
  let current = protocol._kex;
  Object.defineProperty(protocol, '_kex', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (kex: unknown) => {
      current = kex;
      if (isCurve25519Kex(kex)) economizeCurve25519(kex);
    },
  });
  return true;
}

function isCurve25519Kex(kex: unknown): kex is Curve25519Kex {
  const k = kex as Partial<Curve25519Kex> | null;
  return (
    k?.type === '25519' &&
    '_keys' in k &&
    typeof k.generateKeys === 'function' &&
    typeof k.getPublicKey === 'function' &&
    typeof k.computeSecret === 'function' &&
    typeof k.finish === 'function'
  );
}

function economizeCurve25519(kex: Curve25519Kex): void {
  const { getPublicKey, computeSecret, finish } = kex;
  let exported: { keys: Curve25519Kex['_keys']; raw: Buffer } | undefined;
  kex.getPublicKey = function (this: Curve25519Kex) {
    this.generateKeys();
    if (exported?.keys !== this._keys) {
      const x = this._keys?.publicKey.export({ format: 'jwk' }).x;
      if (typeof x !== 'string') return getPublicKey.call(this);
      exported = { keys: this._keys, raw: Buffer.from(x, 'base64url') };
    }
    return exported.raw;
  };
  kex.computeSecret = function (this: Curve25519Kex, peer: Buffer) {
    this.generateKeys();
    if (!Buffer.isBuffer(peer) || peer.length !== 32 || !this._keys) return computeSecret.call(this, peer);
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peer.toString('base64url') }, format: 'jwk' });
      return asMpint(diffieHellman({ privateKey: this._keys.privateKey, publicKey }));
    } catch (err) {
      // ssh2 turns a returned Error into a key-exchange failure
      return err as Error;
    }
  };
  // The host key's signature is checked inside finish(), on a key object ssh2 makes there.
  kex.finish = function (this: Curve25519Kex, ...args: unknown[]) {
    return withRawKeyVerify(() => finish.apply(this, args));
  };
}

/** An SSH mpint's bytes (RFC 4251): no leading zero bytes, one zero byte before a set high bit. */
function asMpint(buf: Buffer): Buffer {
  let start = 0;
  while (start < buf.length && buf[start] === 0) start++;
  const body = buf.subarray(start);
  return body.length && body[0] & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : Buffer.from(body);
}

/** ssh2's shared key methods (BaseKey in lib/protocol/keyParser.js), found through a key it parsed. */
let keyMethods: { verify: Verify } | null | undefined;
function sharedKeyMethods(): { verify: Verify } | null {
  if (keyMethods !== undefined) return keyMethods;
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.alloc(32, 1))]);
  const parsed = ssh2.utils.parseKey(`ssh-ed25519 ${blob.toString('base64')}`);
  const proto = parsed instanceof Error ? null : (Object.getPrototypeOf(parsed) as { verify?: unknown } | null);
  keyMethods = proto && typeof proto.verify === 'function' && Object.getOwnPropertyDescriptor(proto, 'verify')?.writable ? (proto as { verify: Verify }) : null;
  return keyMethods;
}

/**
 * Runs `fn` (ssh2's finish of one key exchange, synchronous) with public-key
 * verification done on a key object imported from the key's raw SSH fields
 * rather than from its PEM text; ssh2's own verify is back as soon as it returns.
 */
function withRawKeyVerify<T>(fn: () => T): T {
  const methods = sharedKeyMethods();
  if (!methods) return fn();
  const original = methods.verify;
  methods.verify = function (this: ParsedKey, data, signature, algo) {
    const key = publicKeyOf(this);
    if (!key) return original.call(this, data, signature, algo);
    try {
      return cryptoVerify(algo || key.digest, data, key.object, signature);
    } catch (err) {
      // ssh2 expects an Error returned, not thrown
      return err as Error;
    }
  };
  try {
    return fn();
  } finally {
    methods.verify = original;
  }
}

/** The digest ssh2 uses for each public key type when the caller names none (as in signWithDecodedKey). */
const VERIFY_DIGEST: Record<string, { digest: string | null; curve?: string }> = {
  'ssh-ed25519': { digest: null },
  'ssh-rsa': { digest: 'sha1' },
  'ecdsa-sha2-nistp256': { digest: 'sha256', curve: 'P-256' },
  'ecdsa-sha2-nistp384': { digest: 'sha384', curve: 'P-384' },
  'ecdsa-sha2-nistp521': { digest: 'sha512', curve: 'P-521' },
};

/** A public key object from an SSH public key's wire fields (RFC 4253, 5656, 8709), or undefined to let ssh2 do it. */
function publicKeyOf(parsed: ParsedKey): { object: KeyObject; digest: string | null } | undefined {
  const kind = VERIFY_DIGEST[parsed.type];
  if (!kind || parsed.isPrivateKey()) return undefined;
  const fields = sshStrings(parsed.getPublicSSH());
  if (!fields || fields[0].toString('latin1') !== parsed.type) return undefined;
  let jwk: JsonWebKey;
  if (parsed.type === 'ssh-ed25519') {
    if (fields.length !== 2 || fields[1].length !== 32) return undefined;
    jwk = { kty: 'OKP', crv: 'Ed25519', x: fields[1].toString('base64url') };
  } else if (parsed.type === 'ssh-rsa') {
    if (fields.length !== 3) return undefined;
    jwk = { kty: 'RSA', e: unsigned(fields[1]).toString('base64url'), n: unsigned(fields[2]).toString('base64url') };
  } else {
    // ecdsa: curve name, then the uncompressed point 04 || X || Y
    const q = fields[2];
    if (fields.length !== 3 || !q || q[0] !== 4 || q.length % 2 !== 1) return undefined;
    const half = (q.length - 1) / 2;
    jwk = { kty: 'EC', crv: kind.curve, x: q.subarray(1, 1 + half).toString('base64url'), y: q.subarray(1 + half).toString('base64url') };
  }
  try {
    return { object: createPublicKey({ key: jwk, format: 'jwk' }), digest: kind.digest };
  } catch {
    return undefined;
  }
}

/** An mpint's magnitude: without the sign byte(s) JWK does not want. */
function unsigned(mpint: Buffer): Buffer {
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  return mpint.subarray(i);
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** The length-prefixed strings a public key blob is made of; undefined when it is not exactly that. */
function sshStrings(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return undefined;
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}
