import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha1 } from '../../src/transport/hmac-sha1.js';

describe('HmacSha1 (hashed known_hosts names)', () => {
  it('gives the bytes node:crypto gives, for every message length across block boundaries and key sizes', () => {
    for (const keyLength of [0, 1, 20, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const mine = new HmacSha1(key);
      for (let length = 0; length <= 200; length++) {
        const message = randomBytes(length);
        const expected = createHmac('sha1', key).update(message).digest();
        expect(mine.digest(message).toString('hex'), `key ${keyLength}, message ${length}`).toBe(expected.toString('hex'));
        expect(mine.matcher(expected)(message)).toBe(true);
        expected[length % 20] ^= 1;
        expect(mine.matcher(expected)(message)).toBe(false);
      }
    }
  });

  it("matches a known_hosts line hashed by OpenSSH's rule", () => {
    const salt = Buffer.from('TK3oM6ifzDx2ps5dBxTMDvGwdqY=', 'base64');
    const name = Buffer.from('[mx1.example.net]:2222');
    expect(new HmacSha1(salt).digest(name).equals(createHmac('sha1', salt).update(name).digest())).toBe(true);
    expect(new HmacSha1(salt).digest(Buffer.from('[mx2.example.net]:2222')).equals(createHmac('sha1', salt).update(name).digest())).toBe(false);
  });
});
