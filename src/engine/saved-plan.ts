/**
 * `plumb apply PLAN.json`: apply exactly what was reviewed. Before anything is
 * contacted the plan's files must be unchanged; then each host is re-probed
 * and refused where its state or the desired state no longer matches what the
 * plan saw. The other hosts are applied as planned.
 */
import { createHash } from 'node:crypto';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { planDocumentSchema, PLAN_FORMAT, PLAN_VERSION, type PlanDocument, type PlanDocumentHost } from './plan-schema.js';
import { PlumbError } from '../errors.js';
import type { Fingerprinter } from './fingerprint.js';
import type { HostPlan } from './types.js';

export class SavedPlanError extends PlumbError {}

export function looksLikeSavedPlan(path: string): boolean {
  if (!path.endsWith('.json')) return false;
  try {
    return JSON.parse(readPlanText(path))?.format === PLAN_FORMAT;
  } catch {
    return false;
  }
}

export function readSavedPlan(path: string): PlanDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(readPlanText(path));
  } catch (e) {
    throw new SavedPlanError(`${path}: not a readable plan file: ${(e as Error).message}`);
  }
  const version = (raw as { version?: unknown })?.version;
  if (version !== PLAN_VERSION) throw new SavedPlanError(`${path}: plan format version ${String(version)} is not supported (this plumb reads version ${PLAN_VERSION})`);
  const parsed = planDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SavedPlanError(`${path}: not a valid plan: ${issue.path.join('.')}: ${issue.message}`);
  }
  if (!parsed.data.fingerprint_key) throw new SavedPlanError(`${path}: the plan holds no fingerprints, so it cannot be applied; save one with plumb plan --out`);
  return parsed.data;
}

function readPlanText(path: string): string {
  return readLimited(path, { limit: READ_LIMITS.savedPlan, what: 'plan file' }).toString('utf8');
}

/** Only the files a plan was made from (YAML) are hashed; a larger one has changed anyway. */
function sha256File(path: string): string {
  return createHash('sha256')
    .update(readLimited(path, { limit: READ_LIMITS.yaml, what: 'file' }))
    .digest('hex');
}

/** Refuses before anything is contacted when a file the plan was made from has changed. */
export function checkPlanFiles(plan: PlanDocument, current: Array<{ path: string; sha256: string }>): void {
  const now = new Map(current.map((f) => [f.path, f.sha256]));
  const changed: string[] = [];
  for (const f of plan.files) {
    let hash = now.get(f.path);
    if (hash === undefined) {
      try {
        hash = sha256File(f.path);
      } catch {
        changed.push(`${f.path} (no longer readable)`);
        continue;
      }
    }
    if (hash !== f.sha256) changed.push(f.path);
  }
  for (const f of current) if (!plan.files.some((p) => p.path === f.path)) changed.push(`${f.path} (not part of the plan)`);
  if (changed.length) {
    throw new SavedPlanError(`the plan is stale: ${changed.join(', ')} changed since it was made; run plumb plan again`);
  }
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'absent';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Why a freshly probed host no longer matches its saved plan, or undefined when it does. */
export function staleReason(saved: PlanDocumentHost | undefined, fresh: HostPlan, fp: Fingerprinter): string | undefined {
  if (!saved) return 'stale: the host was not part of the saved plan';
  if (saved.status === 'unreachable' || saved.status === 'failed') return `stale: the host was ${saved.status} when the plan was made`;
  const reasons: string[] = [];
  // A loop's instances are told apart by their item (issue 13); its list must be the one reviewed.
  const sameInstance = (x: PlanDocumentHost['tasks'][number], t: HostPlan['tasks'][number]) => x.index === t.index && x.item?.index === t.item?.index;
  for (const s of saved.tasks) if (!fresh.tasks.some((t) => sameInstance(s, t))) reasons.push(`${s.name} is in the plan but not in the fresh plan (the loop's list changed)`);
  for (const t of fresh.tasks) {
    const s = saved.tasks.find((x) => sameInstance(x, t));
    if (s && (s.items !== undefined || t.loopItems !== undefined) && s.items !== (t.loopItems ? fp.desired(t.loopItems, t.secretValues) : undefined)) {
      reasons.push(`${t.task.name}: the loop's list changed since the plan`);
      continue;
    }
    if (!s) {
      reasons.push(`${t.task.name} is not in the plan`);
      continue;
    }
    if (t.outcome === 'skipped' || s.outcome === 'skipped') {
      if (t.outcome !== s.outcome) reasons.push(`${t.task.name} was ${s.outcome} in the plan, is ${t.outcome} now`);
      continue;
    }
    if (fp.desired(t.args, t.secretValues) !== s.desired) {
      reasons.push(`${t.task.name}: the desired state changed since the plan (a variable or secret has a different value)`);
      continue;
    }
    if (fp.probed(t.probed, t.args, t.secretValues) === s.probed) continue;
    // Name what moved, in the words of the changes the two plans computed.
    const detail: string[] = [];
    const targets = new Set([...s.changes.map((c) => c.target), ...t.changes.map((c) => c.target)]);
    for (const target of targets) {
      const was = s.changes.find((c) => c.target === target);
      const is = t.changes.find((c) => c.target === target);
      const wasText = was ? (was.secret ? 'different (secret)' : show(was.before)) : 'as desired';
      const isText = is ? (is.secret ? 'different (secret)' : show(is.before)) : 'as desired';
      if (wasText !== isText || (was?.secret ?? false) !== (is?.secret ?? false) || !was || !is) {
        detail.push(`${target} was ${wasText} in the plan, is ${isText} now`);
      }
    }
    reasons.push(detail.length ? detail.join('; ') : `${t.task.name}: the host's state changed since the plan`);
  }
  const pendingNow = [...fresh.pendingHandlers].sort().join(',');
  if (pendingNow !== [...saved.pending_handlers].sort().join(',')) reasons.push('pending handlers differ from the plan');
  return reasons.length ? `stale: ${reasons.join('; ')}` : undefined;
}
