/**
 * The schema of the plan document (built in report/plan-document.ts): what
 * `--out PLAN.json` saves and `plumb apply PLAN.json` reads back (saved-plan.ts).
 */
import { z } from 'zod';
import { SALT_BYTES, scryptParamsProblem } from './fingerprint.js';

export const PLAN_FORMAT = 'plumb-plan';
export const PLAN_VERSION = 2;

const change = z.object({
  summary: z.string(),
  target: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  diff: z.string().optional(),
  secret: z.boolean().optional(),
  wait: z.boolean().optional().describe('a wait, not a change (pause, wait_for): apply runs it, the task stays ok and is not counted as a change'),
});

const task = z.object({
  index: z.number().int().describe('position of the task in its play'),
  name: z.string(),
  module: z.string(),
  outcome: z.enum(['ok', 'change', 'may-change', 'skipped', 'error']),
  reason: z.string().optional(),
  message: z.string().optional().describe('what the task prints (debug, assert), redacted; "known after apply (...)" when it is computed from a result known only then'),
  runs_if: z.string().optional().describe('a rescue task: it runs only if this happens (a task of its block fails)'),
  changes: z.array(change),
  probed: z.string().optional().describe('keyed fingerprint of the state the plan was computed from (see fingerprint_key)'),
  desired: z.string().optional().describe('keyed fingerprint of the desired state, the rendered arguments (see fingerprint_key)'),
  item: z.object({ index: z.number().int(), label: z.string() }).optional().describe("one item of the task's loop: its position in the list and its label (the name ends with it)"),
  items: z.string().optional().describe("keyed fingerprint of the loop's whole item list (a changed list makes the host stale)"),
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
  fingerprint_key: fingerprintKey
    .optional()
    .describe("this host's fingerprints are keyed with this, not the document's fingerprint_key (a plan merged from shard plans: each shard drew its own salt)"),
  status: z.enum(['unchanged', 'changes', 'unreachable', 'failed']),
  error: z.string().optional(),
  pending_handlers: z.array(z.string()),
  tasks: z.array(task),
  handlers: z.array(
    z.object({
      name: z.string(),
      runs: z.enum(['will', 'may']),
      because: z.array(z.string()),
      at: z.string().optional().describe('the flush point it runs at, when the play has more than one (after pre_tasks, at a meta: flush_handlers task, …)'),
    }),
  ),
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
    skip_tags: z.array(z.string()).optional(),
    extra_vars: z.record(z.string(), z.unknown()),
    extra_args: z.array(z.string()).optional().describe('the -e arguments as given, when a -e file holds vault data: read again at apply, never stored decrypted'),
  }),
  files: z.array(z.object({ path: z.string(), sha256: z.string() })).describe('content hashes of the playbook, inventory and variable files the plan was made from'),
  fingerprint_key: fingerprintKey.optional(),
  shard: z
    .object({
      index: z.number().int().positive(),
      count: z.number().int().positive(),
      hosts: z.array(z.string()).describe('every host the plays reach after --limit, before sharding, in inventory order: what all the shards together must cover'),
      keyed: z.boolean().describe('whether any fingerprint of this plan is keyed with its salt (a task uses a secret); if not, merged hosts need no key of their own'),
    })
    .optional()
    .describe('present in the plan of one shard (plan --shard I/N); plumb merge joins the N shard plans into one plan without it'),
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

export function planJsonSchema(): unknown {
  return {
    $id: `https://plumb.dev/schemas/plan-v${PLAN_VERSION}.json`,
    title: `plumb plan (format plumb-plan, version ${PLAN_VERSION})`,
    ...z.toJSONSchema(planDocumentSchema, { io: 'input' }),
  };
}
