/**
 * The recap as JSON (`apply --format json`): one row per host and the exit
 * code, so CI jobs of one matrix (`apply --shard I/N`) can be joined by
 * `plumb merge` into one recap and one exit code.
 *
 * The merged exit code follows the rules of a single run (src/errors.ts): a
 * run's code is the most severe of what happened — interrupted, then an
 * error (a failed or refused host), then an unreachable host, then success —
 * and shards share no host, so the most severe code of the shards is the
 * code one process would have returned for all of them.
 */
import { z } from 'zod';
import { EXIT, PlumbError } from '../errors.js';
import { canonicalJson } from '../engine/fingerprint.js';
import { inShard, shardLabel, type Shard } from '../engine/shard.js';
import type { HostResult } from '../engine/types.js';
import { escapeControl } from './escape.js';
import { recapTable } from './recap.js';

export const RECAP_FORMAT = 'plumb-recap';
const RECAP_VERSION = 1;

const STATUSES = ['ok', 'changed', 'failed', 'unreachable', 'refused', 'interrupted', 'not-run'] as const;

const recapDocumentSchema = z.object({
  format: z.literal(RECAP_FORMAT),
  version: z.literal(RECAP_VERSION),
  created_at: z.string(),
  command: z.object({
    playbook: z.string(),
    inventory: z.string(),
    plan: z.string().optional().describe('the saved plan applied, as given'),
    limit: z.string().optional(),
    tags: z.array(z.string()).optional(),
    skip_tags: z.array(z.string()).optional(),
  }),
  shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).optional(),
  interrupted: z.boolean(),
  exit_code: z.number().int(),
  summary: z.object({ hosts: z.number().int(), ...(Object.fromEntries(STATUSES.map((s) => [s.replace('-', '_'), z.number().int()])) as Record<string, z.ZodNumber>) }),
  hosts: z.array(
    z.object({
      name: z.string(),
      status: z.enum(STATUSES),
      ok: z.number().int(),
      changed: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      seconds: z.number(),
      error: z.string().optional(),
    }),
  ),
});

export type RecapDocument = z.infer<typeof recapDocumentSchema>;

export class RecapMergeError extends PlumbError {}

function summaryOf(hosts: RecapDocument['hosts']): RecapDocument['summary'] {
  return { hosts: hosts.length, ...Object.fromEntries(STATUSES.map((s) => [s.replace('-', '_'), hosts.filter((h) => h.status === s).length])) };
}

export interface RecapInput {
  results: HostResult[];
  interrupted: boolean;
  exitCode: number;
  command: RecapDocument['command'];
  shard?: Shard;
  redact: (text: string) => string;
  now?: Date;
}

export function buildRecap(input: RecapInput): RecapDocument {
  // Redacted field by field: a secret holding a quote would not be found in the JSON text.
  const r = input.redact;
  const hosts = input.results.map((h) => ({
    name: r(h.host),
    status: h.status,
    ok: h.ok,
    changed: h.changed,
    failed: h.failed,
    skipped: h.skipped,
    seconds: Math.round(h.seconds * 1000) / 1000,
    ...(h.error ? { error: r(h.error) } : {}),
  }));
  return {
    format: RECAP_FORMAT,
    version: RECAP_VERSION,
    created_at: (input.now ?? new Date()).toISOString(),
    command: input.command,
    ...(input.shard ? { shard: { index: input.shard.index, count: input.shard.count } } : {}),
    interrupted: input.interrupted,
    exit_code: input.exitCode,
    summary: summaryOf(hosts),
    hosts,
  };
}

export function recapJson(doc: RecapDocument): string {
  return escapeControl(JSON.stringify(doc, null, 2)) + '\n';
}

/** The recap table of a recap document, as apply prints it. */
export function recapDocumentTable(doc: RecapDocument): string {
  return recapTable(
    doc.hosts.map((h) => ({ host: h.name, status: h.status, ok: h.ok, changed: h.changed, failed: h.failed, skipped: h.skipped, tasks: [], seconds: h.seconds, error: h.error })),
    'apply',
  );
}

/** Most severe first: the order in which a single run's exit code is decided. */
const SEVERITY: number[] = [EXIT.interrupted, EXIT.error, EXIT.unreachable, EXIT.changes, EXIT.ok];

export function mostSevereExit(codes: number[]): number {
  // A code outside the table (a crash) counts as an error.
  const known = codes.map((c) => (SEVERITY.includes(c) ? c : EXIT.error));
  return SEVERITY.find((c) => known.includes(c)) ?? EXIT.ok;
}

export function looksLikeRecap(doc: unknown): boolean {
  return (doc as { format?: unknown } | null)?.format === RECAP_FORMAT;
}

/** Join the recaps of shards 1..N of one apply into one recap; its exit_code is the run's. */
export function mergeRecaps(recaps: Array<{ path: string; doc: unknown }>): RecapDocument {
  if (recaps.length === 0) throw new RecapMergeError('no recaps to merge');
  const docs = recaps.map(({ path, doc }) => {
    const parsed = recapDocumentSchema.safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RecapMergeError(`${path}: not a valid recap: ${issue.path.join('.')}: ${issue.message}`);
    }
    if (!parsed.data.shard) throw new RecapMergeError(`${path}: not the recap of a shard (apply without --shard I/N)`);
    return { path, doc: parsed.data, shard: parsed.data.shard };
  });
  docs.sort((a, b) => a.shard.index - b.shard.index);
  const count = docs[0].shard.count;
  const seen = new Map<number, string>();
  for (const d of docs) {
    if (d.shard.count !== count) throw new RecapMergeError(`${d.path} is shard ${shardLabel(d.shard)} but ${docs[0].path} is of ${count} shards`);
    if (d.shard.index > count) throw new RecapMergeError(`${d.path}: shard ${shardLabel(d.shard)} does not exist`);
    const twice = seen.get(d.shard.index);
    if (twice) throw new RecapMergeError(`shard ${d.shard.index}/${count} is given twice: ${twice} and ${d.path}`);
    seen.set(d.shard.index, d.path);
    if (canonicalJson(d.doc.command) !== canonicalJson(docs[0].doc.command)) {
      throw new RecapMergeError(`${d.path} and ${docs[0].path} are recaps of different runs (playbook, inventory, plan or command differ)`);
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length) throw new RecapMergeError(`recap of shard ${missing.map((i) => `${i}/${count}`).join(', ')} missing (did that job stop before it applied?)`);
  const owner = new Map<string, string>();
  for (const d of docs) {
    for (const h of d.doc.hosts) {
      if (!inShard(h.name, d.shard)) throw new RecapMergeError(`${d.path}: host ${h.name} belongs to another shard than ${shardLabel(d.shard)}`);
      const twice = owner.get(h.name);
      if (twice) throw new RecapMergeError(`host ${h.name} is in two recaps: ${twice} and ${d.path}`);
      owner.set(h.name, d.path);
    }
  }
  const hosts = docs.flatMap((d) => d.doc.hosts);
  const { format, version, command } = docs[0].doc;
  return {
    format,
    version,
    created_at: docs.map((d) => d.doc.created_at).sort()[0],
    command,
    interrupted: docs.some((d) => d.doc.interrupted),
    exit_code: mostSevereExit(docs.map((d) => d.doc.exit_code)),
    summary: summaryOf(hosts),
    hosts,
  };
}
