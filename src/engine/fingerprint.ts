/**
 * Fingerprints of probed and desired state for saved plans. A saved plan must
 * never hold a secret, not even a plain hash of one (a low-entropy password
 * falls to a dictionary). So every fingerprint is an HMAC whose key is derived
 * from the secret values the task involves: the plan file alone cannot be used
 * to test guesses, and when a secret is supplied again at apply time with a
 * different value, exactly the tasks that use it stop matching.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Probed } from '../modules/types.js';

/** JSON with object keys sorted, so equal values always serialise equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  }) ?? 'null';
}

export class Fingerprinter {
  private readonly secrets: string[];

  constructor(secretValues: Iterable<string>) {
    this.secrets = [...new Set([...secretValues].filter((s) => s.length > 0))].sort();
  }

  /**
   * HMAC of `value`, keyed by the secret values found in it or in `context`
   * (the task's arguments). When the value is marked as derived from secret
   * content without containing a value we can see (a file hash, say), every
   * secret goes into the key.
   */
  of(value: unknown, context: unknown[] = [], allSecrets = false): string {
    const data = canonicalJson(value);
    const seen = data + canonicalJson(context);
    const used = allSecrets ? this.secrets : this.secrets.filter((s) => seen.includes(s));
    const key = createHash('sha256').update(['plumb-fingerprint-v1', ...used].join('\0')).digest();
    return 'hmac-sha256:' + createHmac('sha256', key).update(data).digest('hex').slice(0, 32);
  }

  probed(probed: Probed<unknown> | undefined, args: unknown): string | undefined {
    if (!probed) return undefined;
    const marked = probed.known && Boolean((probed.state as { secretFields?: string[] } | null)?.secretFields?.length);
    return this.of(probed, [args], marked);
  }

  desired(args: unknown): string {
    return this.of(args);
  }
}
