/**
 * HMAC-SHA1 (RFC 2104) under one fixed key, for hashed known_hosts names
 * (`|1|salt|hmac`). Each hashed line has its own salt, so finding a host's
 * lines means one HMAC per hashed line per host: N hosts × M lines. With
 * node:crypto each HMAC is a new native object (~3 µs); here the key's two
 * padded blocks are absorbed once per line, and a short name then costs two
 * SHA-1 compressions in plain JavaScript (FIPS 180-4, section 6.1.2).
 */
import { createHash } from 'node:crypto';

const BLOCK = 64;
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

/** The working schedule, reused by every compression (the code is synchronous). */
const w = new Int32Array(80);

/** One SHA-1 compression of the 64 bytes of `block` at `offset` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t++) {
    const i = offset + t * 4;
    w[t] = (block[i] << 24) | (block[i + 1] << 16) | (block[i + 2] << 8) | block[i + 3];
  }
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  for (let t = 0; t < 80; t++) {
    let f: number;
    let k: number;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
}

/** Scratch space: the code is synchronous, so one set serves every HMAC. */
const state = new Int32Array(5);
const innerDigest = new Int32Array(5);
const tail = new Uint8Array(2 * BLOCK);
const innerBytes = new Uint8Array(20);

/** SHA-1 of `message` into `state`, continued from `start` (which has absorbed exactly one block). */
function hashAfterOneBlock(start: Int32Array, message: Uint8Array): void {
  state.set(start);
  const full = message.length - (message.length % BLOCK);
  for (let off = 0; off < full; off += BLOCK) compress(state, message, off);
  // The rest, 0x80, zeros, and the whole input's length in bits (big-endian, 64 bits; never over 2^32 here).
  const rest = message.length - full;
  const length = rest + 9 <= BLOCK ? BLOCK : 2 * BLOCK;
  tail.fill(0, 0, length);
  for (let i = 0; i < rest; i++) tail[i] = message[full + i];
  tail[rest] = 0x80;
  const bits = (BLOCK + message.length) * 8;
  tail[length - 4] = bits >>> 24;
  tail[length - 3] = (bits >>> 16) & 0xff;
  tail[length - 2] = (bits >>> 8) & 0xff;
  tail[length - 1] = bits & 0xff;
  compress(state, tail, 0);
  if (length > BLOCK) compress(state, tail, BLOCK);
}

/** The 20 bytes of a digest as the five big-endian words SHA-1 works in. */
function words(digest: Uint8Array): Int32Array {
  const out = new Int32Array(5);
  for (let i = 0; i < 5; i++) out[i] = (digest[i * 4] << 24) | (digest[i * 4 + 1] << 16) | (digest[i * 4 + 2] << 8) | digest[i * 4 + 3];
  return out;
}

export class HmacSha1 {
  private readonly inner: Int32Array;
  private readonly outer: Int32Array;

  constructor(key: Uint8Array) {
    const k = new Uint8Array(BLOCK);
    k.set(key.length > BLOCK ? createHash('sha1').update(key).digest() : key);
    const pad = new Uint8Array(BLOCK);
    this.inner = Int32Array.from(IV);
    for (let i = 0; i < BLOCK; i++) pad[i] = k[i] ^ 0x36;
    compress(this.inner, pad, 0);
    this.outer = Int32Array.from(IV);
    for (let i = 0; i < BLOCK; i++) pad[i] = k[i] ^ 0x5c;
    compress(this.outer, pad, 0);
  }

  /** Leaves HMAC(key, message) in `state`. */
  private run(message: Uint8Array): void {
    hashAfterOneBlock(this.inner, message);
    innerDigest.set(state);
    const digest = innerBytes;
    for (let i = 0; i < 5; i++) {
      digest[i * 4] = innerDigest[i] >>> 24;
      digest[i * 4 + 1] = (innerDigest[i] >>> 16) & 0xff;
      digest[i * 4 + 2] = (innerDigest[i] >>> 8) & 0xff;
      digest[i * 4 + 3] = innerDigest[i] & 0xff;
    }
    hashAfterOneBlock(this.outer, digest);
  }

  digest(message: Uint8Array): Buffer {
    this.run(message);
    const out = Buffer.alloc(20);
    for (let i = 0; i < 5; i++) out.writeInt32BE(state[i], i * 4);
    return out;
  }

  /** A test for one expected HMAC (20 bytes), to run against many messages. */
  matcher(expected: Uint8Array): (message: Uint8Array) => boolean {
    if (expected.length !== 20) return () => false;
    const want = words(expected);
    return (message) => {
      this.run(message);
      for (let i = 0; i < 5; i++) if (state[i] !== want[i]) return false;
      return true;
    };
  }
}
