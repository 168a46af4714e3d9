/**
 * `--shard i/n`: which of n CI jobs works on a host. Rendezvous hashing
 * (highest random weight): every shard gives each host a weight, a hash of
 * the shard's number and the host's name, and the host goes to the shard
 * that weighs it highest.
 *
 * Why this and not "every n-th host of the list": a host's shard depends on
 * its name and n only, never on the other hosts, so adding or removing a
 * host moves that host alone; "every n-th" shifts every host after it. Why
 * not "hash mod n", which is also per host: going from n to n+1 shards moves
 * only the hosts the new shard now weighs highest (about 1/(n+1) of them),
 * where mod n reshuffles nearly all. The weight of shard i does not depend on
 * n for the same reason. A shard is a pure per-host test, so applying
 * `--limit` before or after sharding selects the same hosts.
 */
import { createHash } from 'node:crypto';
import { PatternError } from '../inventory/patterns.js';

export interface Shard {
  /** 1-based, as CI matrices count jobs. */
  index: number;
  count: number;
}

/** Matrices past this are not a CI system's (GitHub allows 256 jobs); it also bounds the hashing. */
export const MAX_SHARDS = 1024;

const LABEL = 'plumb-shard-v1';

function weight(shard: number, name: string): bigint {
  return createHash('sha256').update(`${LABEL}\0${shard}\0${name}`).digest().readBigUInt64BE(0);
}

/** The 1-based shard of `count` that owns `name`. */
export function shardOf(name: string, count: number): number {
  let best = 1;
  let bestWeight = -1n;
  for (let i = 1; i <= count; i++) {
    const w = weight(i, name);
    // Ties (2^-64) go to the lower shard, so the answer is still one shard.
    if (w > bestWeight) {
      best = i;
      bestWeight = w;
    }
  }
  return best;
}

export function inShard(name: string, shard: Shard): boolean {
  return shardOf(name, shard.count) === shard.index;
}

export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** "2/4" → {index: 2, count: 4}; a string says what is wrong. */
export function parseShard(text: string): Shard | string {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return `must be I/N, like 2/4 (shard I of N), got ${JSON.stringify(text)}`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) return `N must be 1..${MAX_SHARDS}, got ${count}`;
  if (index < 1 || index > count) return `I must be 1..${count}, got ${index}`;
  return { index, count };
}

/**
 * A --limit pattern naming exactly these hosts. Host names never collide with
 * group names (the inventory refuses that); a name holding a pattern
 * separator cannot be named this way, so it is refused rather than misread.
 */
export function exactHostsPattern(names: string[]): string {
  const bad = names.find((n) => /[:,]/.test(n) || /^[!&]/.test(n.trim()) || n.trim() !== n || n === '');
  if (bad !== undefined) throw new PatternError(`host ${JSON.stringify(bad)} cannot be selected by name (it holds a host pattern separator)`);
  // `!all` alone is the pattern that matches no host.
  return names.length ? names.join(':') : '!all';
}
