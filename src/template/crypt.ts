/**
 * SHA-crypt (the `$6$` and `$5$` hashes of crypt(3), Ulrich Drepper's
 * specification) on node:crypto, for Ansible's password_hash filter — no
 * native addon.
 */
import { createHash } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function b64from24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHABET[w & 0x3f];
    w >>= 6;
  }
  return out;
}

const ORDER_512 = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];
const ORDER_256 = [
  [0, 10, 20],
  [21, 1, 11],
  [12, 22, 2],
  [3, 13, 23],
  [24, 4, 14],
  [15, 25, 5],
  [6, 16, 26],
  [27, 7, 17],
  [18, 28, 8],
  [9, 19, 29],
];

function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, length - i));
  return out;
}

export function shaCrypt(password: string, salt: string, variant: 'sha512' | 'sha256' = 'sha512', rounds?: number): string {
  const algo = variant;
  const size = variant === 'sha512' ? 64 : 32;
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 16), 'utf8');
  const r = rounds === undefined ? 5000 : Math.min(999999999, Math.max(1000, rounds));
  const h = (...parts: Buffer[]) => {
    const x = createHash(algo);
    for (const p of parts) x.update(p);
    return x.digest();
  };
  const b = h(pw, s, pw);
  const a = createHash(algo);
  a.update(pw);
  a.update(s);
  a.update(repeatTo(b, pw.length));
  for (let n = pw.length; n > 0; n >>= 1) a.update(n & 1 ? b : pw);
  let digest = a.digest();
  const dp = createHash(algo);
  for (let i = 0; i < pw.length; i++) dp.update(pw);
  const p = repeatTo(dp.digest(), pw.length);
  const ds = createHash(algo);
  for (let i = 0; i < 16 + digest[0]; i++) ds.update(s);
  const sBytes = repeatTo(ds.digest(), s.length);
  for (let i = 0; i < r; i++) {
    const c = createHash(algo);
    c.update(i & 1 ? p : digest);
    if (i % 3) c.update(sBytes);
    if (i % 7) c.update(p);
    c.update(i & 1 ? digest : p);
    digest = c.digest();
  }
  let out = '';
  if (variant === 'sha512') {
    for (const [x, y, z] of ORDER_512) out += b64from24(digest[x], digest[y], digest[z], 4);
    out += b64from24(0, 0, digest[63], 2);
  } else {
    for (const [x, y, z] of ORDER_256) out += b64from24(digest[x], digest[y], digest[z], 4);
    out += b64from24(0, digest[31], digest[30], 3);
  }
  void size;
  const prefix = variant === 'sha512' ? '$6$' : '$5$';
  return `${prefix}${rounds === undefined ? '' : `rounds=${r}$`}${salt.slice(0, 16)}$${out}`;
}
