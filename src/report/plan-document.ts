/**
 * The plan as a versioned JSON document: what `--format json` prints and what
 * `--out PLAN.json` saves for `plumb apply PLAN.json`. Ordering is stable
 * (plays in order, hosts in inventory order, tasks in play order) so two plans
 * of the same state differ only in `created_at`, the fingerprint salt and the
 * fingerprints keyed with it (those of tasks that use a secret).
 */
import type { Fingerprinter } from '../engine/fingerprint.js';
import { countsAsChange } from '../engine/blocks.js';
import { PLAN_FORMAT, PLAN_VERSION, type PlanDocument, type PlanDocumentHost } from '../engine/plan-schema.js';
import type { HostPlan } from '../engine/types.js';
import { escapeControl } from './escape.js';
import { summarize } from './plan-text.js';

export interface DocumentInput {
  plans: HostPlan[];
  playIndex: (plan: HostPlan) => number;
  hostOrder: string[];
  command: PlanDocument['command'];
  files: PlanDocument['files'];
  /** Absent when the document is only printed for reading (markdown): then it holds no fingerprints, and no key is derived. */
  fingerprints?: Fingerprinter;
  redact: (text: string) => string;
  now?: Date;
}

function deepRedact<T>(value: T, redact: (s: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => deepRedact(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepRedact(v, redact)])) as T;
  }
  return value;
}

function hostStatus(p: HostPlan): PlanDocumentHost['status'] {
  if (p.status === 'unreachable') return 'unreachable';
  if (p.status === 'failed' || p.tasks.some((t) => t.outcome === 'error')) return 'failed';
  const changes = p.tasks.some(countsAsChange) || p.handlers.length > 0;
  return changes ? 'changes' : 'unchanged';
}

export function buildPlanDocument(input: DocumentInput): PlanDocument {
  const order = new Map(input.hostOrder.map((h, i) => [h, i]));
  const plans = [...input.plans].sort((a, b) => input.playIndex(a) - input.playIndex(b) || (order.get(a.host) ?? 0) - (order.get(b.host) ?? 0));
  const s = summarize(plans);
  const doc: PlanDocument = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    created_at: (input.now ?? new Date()).toISOString(),
    command: input.command,
    files: input.files,
    summary: { hosts: s.hosts, with_changes: s.withChanges, changes: s.changes, unchanged: s.unchanged, unreachable: s.unreachable, failed: s.failed },
    hosts: plans.map((p) => ({
      name: p.host,
      play: p.play.name,
      play_index: input.playIndex(p),
      status: hostStatus(p),
      ...(p.error ? { error: p.error } : {}),
      pending_handlers: p.pendingHandlers,
      tasks: p.tasks.map((t) => ({
        index: t.index,
        name: t.task.name,
        module: t.task.module,
        outcome: t.outcome,
        ...(t.item ? { item: t.item } : {}),
        ...(t.reason ? { reason: t.reason } : {}),
        ...(t.message !== undefined ? { message: t.message } : {}),
        ...(t.runsIf ? { runs_if: t.runsIf } : {}),
        changes: t.changes.map((c) => ({
          summary: c.summary,
          target: c.target,
          ...(c.secret || c.before === undefined ? {} : { before: c.before }),
          ...(c.secret || c.after === undefined ? {} : { after: c.after }),
          ...(c.secret || !c.diff ? {} : { diff: c.diff }),
          ...(c.secret ? { secret: true } : {}),
          ...(c.wait ? { wait: true } : {}),
        })),
      })),
      handlers: p.handlers.map((h) => ({ name: h.name, runs: h.runs, because: h.because, ...(h.at ? { at: h.at } : {}) })),
    })),
  };
  const redacted = deepRedact(doc, input.redact);
  const fp = input.fingerprints;
  if (!fp) return redacted;
  // Added after redaction: computed here, never text from a template or a host, so redaction could only corrupt them.
  const { summary, hosts, ...head } = redacted;
  return {
    ...head,
    fingerprint_key: { kdf: 'scrypt', N: fp.key.N, r: fp.key.r, p: fp.key.p, salt: fp.key.salt.toString('base64') },
    summary,
    hosts: hosts.map((h, i) => ({
      ...h,
      tasks: h.tasks.map((t, j) => {
        const planned = plans[i].tasks[j];
        const items = planned.loopItems ? { items: fp.desired(planned.loopItems, planned.secretValues) } : {};
        if (planned.outcome === 'skipped') return { ...t, ...items };
        return { ...t, probed: fp.probed(planned.probed, planned.args, planned.secretValues), desired: fp.desired(planned.args, planned.secretValues), ...items };
      }),
    })),
  };
}

/**
 * The document as JSON text, for stdout and saved plans. JSON.stringify escapes C0 but
 * leaves DEL, C1 and bidi controls raw; escapeControl writes those as \uHHHH, so the text
 * is safe to print and parses back to exactly the same document.
 */
export function planJson(doc: PlanDocument): string {
  return escapeControl(JSON.stringify(doc, null, 2)) + '\n';
}
