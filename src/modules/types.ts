/**
 * The module contract (DESIGN.md §4). A module is data plus three pure steps
 * around the transport: probe (a shell snippet and a parser of its output),
 * diff (desired vs current → changes) and apply (the steps that make exactly
 * those changes). Modules never talk to SSH; the engine runs their snippets
 * and steps through the Transport.
 */
import type { z } from 'zod';

/** What one probe snippet produced on the host. */
export interface ProbeOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A probe either knows the current state or says why it cannot (e.g. postconf not installed yet). */
export type Probed<S> = { known: true; state: S } | { known: false; reason: string };

export interface Change {
  /** One line a human reads in a plan: "set inet_protocols: all → ipv4". Already redacted. */
  summary: string;
  /** The thing changed, e.g. "/etc/postfix/main.cf inet_protocols" (used in stale-plan messages). */
  target: string;
  /** Structured before/after; omitted (undefined) for secret values. */
  before?: unknown;
  after?: unknown;
  /** Unified diff for file content changes; never for secret content. */
  diff?: string;
  /** True when before/after/diff were withheld because they involve a secret. */
  secret?: boolean;
}

export type Step =
  | { kind: 'exec'; command: string; stdin?: Buffer | string; /** shown instead of the command */ describe: string }
  | { kind: 'write'; path: string; content: Buffer | string; mode?: string; owner?: string; group?: string; describe: string };

export interface ModuleContext {
  /** Replace every secret value in `text` with ***. */
  redact(text: string): string;
  /** Whether `text` contains any secret value. */
  hasSecret(text: string): boolean;
  /** Read a file on the control machine, relative to the playbook's directory (copy src, template src). */
  readLocal(path: string): Buffer;
  /** Render template text with the host's variables. */
  render(text: string): string;
}

export interface Module<A = any, S = any> {
  name: string;
  /** zod schema of the module's arguments (strict: unknown keys are errors). */
  schema: z.ZodType<A>;
  /** Some modules (command/shell without guards) always change; the plan says "will run". */
  /** Shell snippet that prints the current state; runs under /bin/sh, batched with other probes. */
  probe(args: A, ctx: ModuleContext): string;
  /** Parse the snippet's output. Must be pure. */
  parse(args: A, out: ProbeOutput, ctx: ModuleContext): Probed<S>;
  /** Desired vs current. Empty list → the task is ok. Must be pure. */
  diff(args: A, state: S, ctx: ModuleContext): Change[];
  /** The steps that make exactly `changes`. Must be pure. */
  apply(args: A, state: S, changes: Change[], ctx: ModuleContext): Step[];
}
