/**
 * Shard plans and `plumb merge`: N plans made by `plan --shard I/N` (one per
 * CI job) become the one plan a single process would have made: the same
 * hosts in the same order, the same summary, and one saved plan that
 * `apply` (or `apply --shard I/N`) applies exactly.
 *
 * A merge is refused, before anything is written, when the plans cannot be
 * parts of one run: different playbook, inventory, files or command, a
 * different N, a shard missing or given twice, a host in the wrong shard or
 * in two, or a host the run reaches that no plan holds (an interrupted shard).
 *
 * Each shard drew its own random fingerprint salt, and fingerprints cannot be
 * re-keyed without the secrets, so hosts whose shard used another key than
 * the merged document's carry their own `fingerprint_key`.
 */
import { PlumbError } from '../errors.js';
import type { Project } from '../config/project.js';
import { exactHostsPattern, inShard, shardLabel, type Shard } from './shard.js';
import { playHosts } from './run.js';
import { canonicalJson } from './fingerprint.js';
import { planDocumentSchema, PLAN_FORMAT, PLAN_VERSION, type PlanDocument, type PlanDocumentHost } from './plan-schema.js';

export class MergeError extends PlumbError {}

export interface ShardHosts {
  /** Every host any play reaches after --limit, in inventory order: what all the shards together cover. */
  universe: string[];
  /** This shard's part of it, in the same order. */
  hosts: string[];
  /** A --limit pattern selecting exactly `hosts` (one that matches nothing when the shard is empty). */
  limit: string;
}

export function shardHosts(project: Project, limit: string | undefined, shard: Shard): ShardHosts {
  const reached = new Set(project.playbook.plays.flatMap((play) => playHosts(project, play, limit)));
  const universe = [...project.inventory.hosts.keys()].filter((h) => reached.has(h));
  const hosts = universe.filter((h) => inShard(h, shard));
  return { universe, hosts, limit: exactHostsPattern(hosts) };
}

/** A plan document (already parsed JSON) and where it came from, for messages. */
export interface NamedPlan {
  path: string;
  doc: unknown;
}

type ShardInfo = NonNullable<PlanDocument['shard']>;

/** The document of shard `shard`, with `universe` (every host before sharding) recorded for the merge. */
export function withShard(doc: PlanDocument, shard: Shard, universe: string[], keyed: boolean): PlanDocument {
  // Rebuilt so the keys keep the order a plan has (shard before summary and hosts).
  const { summary, hosts, ...head } = doc;
  return { ...head, shard: { index: shard.index, count: shard.count, hosts: universe, keyed }, summary, hosts };
}

function validated(p: NamedPlan): PlanDocument {
  const raw = p.doc as { format?: unknown; version?: unknown } | null;
  if (raw?.format !== PLAN_FORMAT) throw new MergeError(`${p.path}: not a plumb plan (format ${JSON.stringify(raw?.format)})`);
  if (raw.version !== PLAN_VERSION) throw new MergeError(`${p.path}: plan format version ${String(raw.version)} is not supported (this plumb reads version ${PLAN_VERSION})`);
  const parsed = planDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MergeError(`${p.path}: not a valid plan: ${issue.path.join('.')}: ${issue.message}`);
  }
  // The checked text itself, not zod's copy: its keys keep the order the plan was written in.
  return raw as PlanDocument;
}

/** What must be equal for plans to be parts of one run, with the words for a refusal. */
function sameRun(a: PlanDocument, b: PlanDocument): string | undefined {
  const { command: ca, files: fa } = a;
  const { command: cb, files: fb } = b;
  if (ca.playbook !== cb.playbook) return `playbook ${ca.playbook} vs ${cb.playbook}`;
  if (ca.inventory !== cb.inventory) return `inventory ${ca.inventory} vs ${cb.inventory}`;
  if (canonicalJson(ca) !== canonicalJson(cb)) {
    const keys = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort();
    const differ = keys.filter((k) => canonicalJson((ca as Record<string, unknown>)[k]) !== canonicalJson((cb as Record<string, unknown>)[k]));
    return `the command differs (${differ.map((k) => (k === 'extra_vars' || k === 'extra_args' ? '-e' : k === 'skip_tags' ? '--skip-tags' : `--${k}`)).join(', ')})`;
  }
  const hashes = new Map(fa.map((f) => [f.path, f.sha256]));
  const otherPaths = new Set(fb.map((f) => f.path));
  for (const f of fb) if (hashes.get(f.path) !== f.sha256) return `${f.path} ${hashes.has(f.path) ? 'has different content' : 'is read by one plan only'}`;
  for (const f of fa) if (!otherPaths.has(f.path)) return `${f.path} is read by one plan only`;
  return undefined;
}

function listed(names: string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function keyOf(doc: PlanDocument): string {
  return doc.fingerprint_key ? canonicalJson(doc.fingerprint_key) : '';
}

/**
 * Join the plans of shards 1..N of one run into the plan a single process
 * would have made. Throws MergeError naming the plan and what is wrong.
 */
export function mergePlans(plans: NamedPlan[]): PlanDocument {
  if (plans.length === 0) throw new MergeError('no plans to merge');
  const docs = plans.map((p) => ({ path: p.path, doc: validated(p) }));
  for (const { path, doc } of docs) {
    if (!doc.shard) throw new MergeError(`${path}: not the plan of a shard (made without --shard I/N); merge joins the N plans of plan --shard 1/N … N/N`);
  }
  // Shard order, whatever the order of the arguments: the merged document's key is shard 1's.
  docs.sort((a, b) => (a.doc.shard as ShardInfo).index - (b.doc.shard as ShardInfo).index);
  const first = docs[0];
  const info = (d: PlanDocument) => d.shard as ShardInfo;
  const count = info(first.doc).count;
  const universe = info(first.doc).hosts;
  const byIndex = new Map<number, string>();
  for (const { path, doc } of docs) {
    const s = info(doc);
    if (s.count !== count) throw new MergeError(`${path} is shard ${s.index}/${s.count} but ${first.path} is of ${count} shards: plans of different splits cannot be merged`);
    if (s.index > count) throw new MergeError(`${path}: shard ${s.index}/${s.count} does not exist`);
    const twice = byIndex.get(s.index);
    if (twice) throw new MergeError(`shard ${s.index}/${count} is given twice: ${twice} and ${path}`);
    byIndex.set(s.index, path);
    const differs = sameRun(first.doc, doc);
    if (differs) throw new MergeError(`${path} and ${first.path} are plans of different runs: ${differs}; plan every shard from the same commit and command`);
    if (canonicalJson(s.hosts) !== canonicalJson(universe)) {
      throw new MergeError(`${path} and ${first.path} were made for different host lists (the inventory gave other hosts); plan every shard again`);
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    const orphans = universe.filter((h) => missing.some((index) => inShard(h, { index, count })));
    throw new MergeError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing: ${orphans.length ? `hosts ${listed(orphans)} are in no plan` : 'it holds no host, but its plan is still needed to show that'}`,
    );
  }

  const inRun = new Set(universe);
  const owner = new Map<string, string>();
  const hosts: PlanDocumentHost[] = [];
  const topKey = docs[0].doc.fingerprint_key;
  for (const { path, doc } of docs) {
    const s = info(doc);
    // A shard none of whose fingerprints used its salt needs no key of its own: its fingerprints are the same under any.
    const ownKey = s.keyed && keyOf(doc) !== keyOf(docs[0].doc);
    for (const h of doc.hosts) {
      if (!inRun.has(h.name)) throw new MergeError(`${path}: host ${h.name} is not one of the hosts the run reaches`);
      if (!inShard(h.name, s)) throw new MergeError(`${path}: host ${h.name} belongs to another shard than ${shardLabel(s)} (was the plan made by another version of plumb?)`);
      const seen = owner.get(`${h.play_index}\0${h.name}`);
      if (seen) throw new MergeError(`host ${h.name} is planned twice for play ${h.play_index + 1}: in ${seen} and ${path}`);
      owner.set(`${h.play_index}\0${h.name}`, path);
      const key = h.fingerprint_key ?? (ownKey ? doc.fingerprint_key : undefined);
      hosts.push(key ? withHostKey(h, key) : h);
    }
  }
  const planned = new Set(hosts.map((h) => h.name));
  const absent = universe.filter((h) => !planned.has(h));
  if (absent.length) {
    throw new MergeError(`hosts ${listed(absent)} are in no shard's plan although the run reaches them (was a shard's plan interrupted?); plan that shard again`);
  }
  const order = new Map(universe.map((h, i) => [h, i]));
  hosts.sort((a, b) => a.play_index - b.play_index || order.get(a.name)! - order.get(b.name)!);

  const { format, version, command, files } = docs[0].doc;
  return {
    format,
    version,
    // The oldest shard's time: the merged plan is as old as the oldest state it read.
    created_at: docs.map((d) => d.doc.created_at).sort()[0],
    command,
    files,
    ...(topKey ? { fingerprint_key: topKey } : {}),
    summary: sumSummaries(docs.map((d) => d.doc.summary)),
    hosts,
  };
}

/** Distinct keys a plan may ask apply to derive with: a CI matrix's jobs at most (a hostile plan must not cost hours of scrypt). */
const MAX_PLAN_KEYS = 256;

export function checkHostKeys(doc: PlanDocument, path: string): void {
  const keys = new Set(doc.hosts.flatMap((h) => (h.fingerprint_key ? [canonicalJson(h.fingerprint_key)] : [])));
  if (keys.size > MAX_PLAN_KEYS) throw new MergeError(`${path}: the plan's hosts use ${keys.size} fingerprint keys; at most ${MAX_PLAN_KEYS} (one per shard) are accepted`);
}

/** The host with its own key, placed where the schema puts it (after play_index). */
function withHostKey(h: PlanDocumentHost, key: NonNullable<PlanDocument['fingerprint_key']>): PlanDocumentHost {
  const { name, play, play_index, fingerprint_key: _k, ...rest } = h;
  return { name, play, play_index, fingerprint_key: key, ...rest };
}

/** Every summary count is of distinct hosts, and shards share no host, so the whole is the sum. */
function sumSummaries(parts: PlanDocument['summary'][]): PlanDocument['summary'] {
  const total = { hosts: 0, with_changes: 0, changes: 0, unchanged: 0, unreachable: 0, failed: 0 };
  for (const p of parts) for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += p[k];
  return total;
}
