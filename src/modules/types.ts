/**
 * The module contract. A module is data plus three pure steps
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

/**
 * A probed state may carry `secretFields`: dotted paths of its own fields whose
 * values derive from secret content (e.g. `sha256` of a file whose desired
 * content holds a secret, `values.smtp_sasl_password`). Whoever persists a
 * state (saved plans) must store only keyed hashes of those fields, never the
 * values or plain hashes of them. Changes never carry such values at all.
 */
export interface SecretMarked {
  secretFields?: string[];
}

/**
 * A task that cannot be carried out as written on this host (dest is a
 * directory, rm -rf /, ...). Thrown by `diff`; the engine fails the task with
 * the message, which is already redacted.
 */
export class ModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleError';
  }
}

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
  /**
   * Shell snippet that prints the current state; runs under /bin/sh, batched with other probes.
   * Self-contained POSIX sh, read-only, never prompts; the engine runs it in its own subshell.
   */
  probe(args: A, ctx: ModuleContext): string;
  /** Parse the snippet's output. Must be pure. */
  parse(args: A, out: ProbeOutput, ctx: ModuleContext): Probed<S>;
  /** Desired vs current. Empty list → the task is ok. Must be pure. */
  diff(args: A, state: S, ctx: ModuleContext): Change[];
  /**
   * The steps that make exactly `changes`. Must be pure. `changes` is what `diff` returned for
   * this same `state` (a saved plan re-probes and refuses a drifted host first), so modules
   * compute their steps from `state` and return [] for an empty list. Exec steps are shell
   * command lines (the engine runs them with `sh -c` semantics, with become if the task has it).
   */
  apply(args: A, state: S, changes: Change[], ctx: ModuleContext): Step[];
}
