/**
 * Fingerprints of probed and desired state for saved plans. A saved plan must
 * never hold a secret, nor anything that makes guessing one cheap: whoever has
 * the plan also has the playbook and the inventory, so with a guessed password
 * they can render a task's arguments and recompute its fingerprint. Every
 * fingerprint that involves a secret is therefore keyed by scrypt of the
 * secret values the task uses, with a random salt kept in the plan, so each
 * guess costs one memory-hard derivation (about 390 ms and 128 MiB on the
 * reference machine; bench/plan-guess.ts). A changed secret still changes
 * exactly the fingerprints of the tasks that use it.
 *
 * A run derives each distinct key once (the set of secret values is usually
 * the same for many tasks and hosts); a plan without secrets derives none.
 */
import { createHash, createHmac, randomBytes, scryptSync } from 'node:crypto';
import type { Probed } from '../modules/types.js';

const LABEL = 'plumb-fingerprint-v2';
/** The key of fingerprints that involve no secret: public, so those are plain hashes of public data and host state. */
const PUBLIC_KEY = createHash('sha256').update(LABEL).digest();

/**
 * scrypt parameters of new plans. Measured on the reference machine (2 cores,
 * bench/plan-guess.ts): N·r = 2^18 costs about 95 ms, 2^19 about 190 ms, and
 * these (2^20, 128 MiB) about 390 ms per derivation.
 */
const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;
/** The least N·r for which one guess costs at least 100 ms there; a plan asking for less is refused. */
export const SCRYPT_FLOOR_N_TIMES_R = 2 ** 19;
/** A plan may not ask for more memory than this (a hostile plan must not exhaust the machine that applies it). */
const SCRYPT_MAX_BYTES = 2 ** 30;
export const SALT_BYTES = 16;
const KEY_BYTES = 32;

export interface FingerprintKey {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
}

export function newFingerprintKey(): FingerprintKey {
  return { ...SCRYPT_DEFAULTS, salt: randomBytes(SALT_BYTES) };
}

/** Why these parameters cannot key a plan's fingerprints, or undefined when they can. */
export function scryptParamsProblem(k: { N: number; r: number; p: number }): string | undefined {
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 1;
  if (!whole(k.N) || !whole(k.r) || !whole(k.p) || k.N < 2 || !Number.isInteger(Math.log2(k.N))) return 'scrypt N must be a power of two and r, p positive whole numbers';
  if (k.N * k.r < SCRYPT_FLOOR_N_TIMES_R) return `scrypt N·r is ${k.N * k.r}, below the floor of ${SCRYPT_FLOOR_N_TIMES_R} (a guess would cost under 100 ms)`;
  if (memoryOf(k) > SCRYPT_MAX_BYTES) return `scrypt N=${k.N} r=${k.r} p=${k.p} needs more than ${SCRYPT_MAX_BYTES / 2 ** 20} MiB`;
  if (k.p > 16) return 'scrypt p above 16 is refused';
  return undefined;
}

/** What OpenSSL's scrypt allocates, with room to spare. */
function memoryOf(k: { N: number; r: number; p: number }): number {
  return 128 * k.r * (k.N + k.p + 2);
}

/** JSON with object keys sorted, so equal values always serialise equally. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v) => {
      if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) {
        return Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        );
      }
      return v;
    }) ?? 'null'
  );
}

export class Fingerprinter {
  private readonly secrets: string[];
  private readonly keys = new Map<string, Buffer>();
  private derived = 0;

  constructor(
    secretValues: Iterable<string>,
    readonly key: FingerprintKey,
    options: { floor?: boolean } = {},
  ) {
    const problem = options.floor ? scryptParamsProblem(key) : undefined;
    if (problem) throw new Error(problem);
    this.secrets = [...new Set([...secretValues].filter((s) => s.length > 0))].sort();
  }

  /** How many scrypt keys this fingerprinter derived: one per distinct set of secret values. */
  get derivations(): number {
    return this.derived;
  }

  /**
   * Fingerprint of the desired state. Keyed by the secrets the task's
   * arguments were computed from (`taskSecrets`, by data flow) and any secret
   * whose bytes appear in them.
   */
  desired(args: unknown, taskSecrets: Iterable<string> = []): string {
    const data = canonicalJson(args);
    return this.mac(this.used(data, taskSecrets), data);
  }

  /**
   * Fingerprint of a probed state. A state marked as derived from secret
   * content we cannot see in it (a file's hash) is keyed by the task's own
   * secrets, so another secret changing leaves it alone; by every secret only
   * when the task uses none (a host file that holds a secret the task does not set).
   */
  probed(probed: Probed<unknown> | undefined, args: unknown, taskSecrets: Iterable<string> = []): string | undefined {
    if (!probed) return undefined;
    const marked = probed.known && Boolean((probed.state as { secretFields?: string[] } | null)?.secretFields?.length);
    const data = canonicalJson(probed);
    let used = this.used(data + canonicalJson([args]), taskSecrets);
    if (marked && used.length === 0) used = this.secrets;
    return this.mac(used, data);
  }

  private used(seen: string, taskSecrets: Iterable<string>): string[] {
    const used = new Set(this.secrets.filter((s) => seen.includes(s)));
    for (const s of taskSecrets) if (s.length > 0) used.add(s);
    return [...used].sort();
  }

  private mac(used: string[], data: string): string {
    return 'hmac-sha256:' + createHmac('sha256', this.keyFor(used)).update(data).digest('hex').slice(0, 32);
  }

  private keyFor(used: string[]): Buffer {
    if (used.length === 0) return PUBLIC_KEY;
    const password = `${LABEL}\0${JSON.stringify(used)}`;
    let key = this.keys.get(password);
    if (!key) {
      const { N, r, p, salt } = this.key;
      key = scryptSync(password, salt, KEY_BYTES, { N, r, p, maxmem: memoryOf(this.key) + 2 ** 20 });
      this.keys.set(password, key);
      this.derived++;
    }
    return key;
  }
}
