/**
 * The plan as a versioned JSON document: what `--format json` prints and what
 * `--out PLAN.json` saves for `plumb apply PLAN.json`. Ordering is stable
 * (plays in order, hosts in inventory order, tasks in play order) so two plans
 * of the same state differ only in `created_at`, the fingerprint salt and the
 * fingerprints keyed with it (those of tasks that use a secret).
 */
import { z } from 'zod';
import { SALT_BYTES, scryptParamsProblem, type Fingerprinter } from '../engine/fingerprint.js';
import type { HostPlan } from '../engine/types.js';
import { escapeControl } from './escape.js';
import { summarize } from './plan-text.js';

export const PLAN_FORMAT = 'plumb-plan';
export const PLAN_VERSION = 2;

const change = z.object({
  summary: z.string(),
  target: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  diff: z.string().optional(),
  secret: z.boolean().optional(),
});

const task = z.object({
  index: z.number().int().describe('position of the task in its play'),
  name: z.string(),
  module: z.string(),
  outcome: z.enum(['ok', 'change', 'may-change', 'skipped', 'error']),
  reason: z.string().optional(),
  changes: z.array(change),
  probed: z.string().optional().describe('keyed fingerprint of the state the plan was computed from (see fingerprint_key)'),
  desired: z.string().optional().describe('keyed fingerprint of the desired state, the rendered arguments (see fingerprint_key)'),
});

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const fingerprintKey = z
  .object({
    kdf: z.literal('scrypt'),
    N: z.number().int().positive().describe('scrypt cost (a power of two)'),
    r: z.number().int().positive().describe('scrypt block size'),
    p: z.number().int().positive().describe('scrypt parallelism'),
    salt: z.string().regex(BASE64).describe(`random per plan, base64 (${SALT_BYTES} bytes)`),
  })
  .superRefine((k, ctx) => {
    const problem = scryptParamsProblem(k);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    if (Buffer.from(k.salt, 'base64').length < SALT_BYTES) ctx.addIssue({ code: 'custom', path: ['salt'], message: `the salt must be at least ${SALT_BYTES} bytes` });
  })
  .describe(
    'How the fingerprints are keyed. Each is "hmac-sha256:" and the first 32 hex digits of HMAC-SHA256 over the canonical JSON (keys sorted) ' +
      'of the rendered arguments (desired) or the probed state (probed). A task that uses secrets is keyed with ' +
      'scrypt(password = "plumb-fingerprint-v2" NUL JSON array of the sorted distinct secret values it uses, salt, N, r, p, 32 bytes): ' +
      'each guess at a secret costs one such derivation. A task that uses none is keyed with the public sha256("plumb-fingerprint-v2"). ' +
      'The floor N·r ≥ 2^19 (about 190 ms per guess on the reference machine) is enforced when a plan is read. ' +
      'Absent only from a document that holds no fingerprints (it cannot be applied).',
  );

const host = z.object({
  name: z.string(),
  play: z.string(),
  play_index: z.number().int(),
  status: z.enum(['unchanged', 'changes', 'unreachable', 'failed']),
  error: z.string().optional(),
  pending_handlers: z.array(z.string()),
  tasks: z.array(task),
  handlers: z.array(z.object({ name: z.string(), runs: z.enum(['will', 'may']), because: z.array(z.string()) })),
});

export const planDocumentSchema = z.object({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(PLAN_VERSION),
  created_at: z.string().describe('when the plan was made'),
  command: z.object({
    playbook: z.string(),
    inventory: z.string(),
    limit: z.string().optional(),
    tags: z.array(z.string()).optional(),
    extra_vars: z.record(z.string(), z.unknown()),
  }),
  files: z.array(z.object({ path: z.string(), sha256: z.string() })).describe('content hashes of the playbook, inventory and variable files the plan was made from'),
  fingerprint_key: fingerprintKey.optional(),
  summary: z.object({
    hosts: z.number().int(),
    with_changes: z.number().int(),
    changes: z.number().int(),
    unchanged: z.number().int(),
    unreachable: z.number().int(),
    failed: z.number().int(),
  }),
  hosts: z.array(host),
});

export type PlanDocument = z.infer<typeof planDocumentSchema>;
export type PlanDocumentHost = PlanDocument['hosts'][number];

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

export function hostStatus(p: HostPlan): PlanDocumentHost['status'] {
  if (p.status === 'unreachable') return 'unreachable';
  if (p.status === 'failed' || p.tasks.some((t) => t.outcome === 'error')) return 'failed';
  const changes = p.tasks.some((t) => t.outcome === 'change' || t.outcome === 'may-change') || p.handlers.length > 0;
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
        ...(t.reason ? { reason: t.reason } : {}),
        changes: t.changes.map((c) => ({
          summary: c.summary,
          target: c.target,
          ...(c.secret || c.before === undefined ? {} : { before: c.before }),
          ...(c.secret || c.after === undefined ? {} : { after: c.after }),
          ...(c.secret || !c.diff ? {} : { diff: c.diff }),
          ...(c.secret ? { secret: true } : {}),
        })),
      })),
      handlers: p.handlers.map((h) => ({ name: h.name, runs: h.runs, because: h.because })),
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
        if (planned.outcome === 'skipped') return t;
        return { ...t, probed: fp.probed(planned.probed, planned.args, planned.secretValues), desired: fp.desired(planned.args, planned.secretValues) };
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

export function planJsonSchema(): unknown {
  return {
    $id: `https://plumb.dev/schemas/plan-v${PLAN_VERSION}.json`,
    title: `plumb plan (format plumb-plan, version ${PLAN_VERSION})`,
    ...z.toJSONSchema(planDocumentSchema, { io: 'input' }),
  };
}
