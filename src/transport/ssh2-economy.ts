/**
 * Work ssh2 does on every connection that plumb does not need, removed
 * without changing what is checked. Measured with `perf` at 500 simulated
 * hosts (bench/scale.ts): re-reading the identity's PEM text on every
 * signature was ~5% of the controller's CPU, the host-key proof ~5%.
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { Client, ParsedKey } from 'ssh2';

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
  const handlers = (client as unknown as { _protocol?: { _handlers?: Record<string, GlobalRequestHandler | undefined> } })._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (protocol, name, wantReply, data) => {
    if (name === 'hostkeys-00@openssh.com' && !wantReply) return;
    original(protocol, name, wantReply, data);
  };
  return true;
}
