/**
 * The module contract. A module is one file that declares its arguments (a
 * strict zod schema, every field described), a one-line summary, whether it
 * takes a free-form string, the facts it reads (src/facts), and one pure
 * `plan` from arguments and fact values to changes, each with the exact steps
 * that make it. Modules never talk to SSH: the engine reads the facts in one
 * batched probe script per host and runs the steps through the Transport.
 */
import type { z } from 'zod';
import type { FactRef, Probed } from '../facts/types.js';

export type { FactRef, ProbeOutput, Probed } from '../facts/types.js';

/**
 * A task that cannot be carried out as written on this host (dest is a
 * directory, rm -rf /, ...). Thrown by `plan`; the engine fails the task with
 * the message (redacted).
 */
export class ModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleError';
  }
}

/**
 * The current state cannot be told yet (postconf before postfix is installed,
 * a file an earlier task creates). Thrown by `plan`; the task "may change" and
 * apply reads its facts again when its turn comes.
 */
export class UnknownState extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UnknownState';
  }
}

/** A fact's value, or UnknownState with the fact's reason. */
export function known<V>(fact: Probed<V>): V {
  if (!fact.known) throw new UnknownState(fact.reason);
  return fact.state;
}

export interface Change {
  /** One line a human reads in a plan: "set inet_protocols: all → ipv4". Already redacted. */
  summary: string;
  /** The thing changed, e.g. "main.cf inet_protocols" (used in stale-plan messages). */
  target: string;
  /** Structured before/after; omitted (undefined) for secret values. */
  before?: unknown;
  after?: unknown;
  /** Unified diff for file content changes; never for secret content. */
  diff?: string;
  /** True when before/after/diff were withheld because they involve a secret. */
  secret?: boolean;
  /**
   * Issue 15: a wait, not a change (pause's sleep, wait_for's poll): apply runs its steps, but the
   * task reports ok, notifies nothing, and a plan does not count it as a change to come.
   */
  wait?: boolean;
}

export type Step =
  | {
      kind: 'exec';
      command: string;
      stdin?: Buffer | string;
      /** shown instead of the command */
      describe: string;
      /** Issue 15: the task's whole failure message when the command exits non-zero (wait_for's timeout, as Ansible words it). */
      failsWith?: string;
    }
  | { kind: 'write'; path: string; content: Buffer | string; mode?: string; owner?: string; group?: string; describe: string }
  /**
   * One item of work the module's `merge` combines with the others of its group into real
   * steps (apt installs every package in one call). Never reaches the engine.
   */
  | { kind: 'batch'; group: string; item: string; describe: string };

/** A step the engine runs. */
export type RunStep = Exclude<Step, { kind: 'batch' }>;

export interface Planned {
  change: Change;
  /** The steps that make this change; may be empty when another change's steps make it too. */
  steps: Step[];
}

export interface ModuleContext {
  /** Replace every secret value in `text` with ***. */
  redact(text: string): string;
  /** Whether `text` contains any secret value. */
  hasSecret(text: string): boolean;
  /** Read a file on the control machine, relative to the playbook's directory (copy src, template src). */
  readLocal(path: string): Buffer;
  /** Issue 15 (copy `mode: preserve`): the octal mode ("0755") of a local file, found as `readLocal` finds it. */
  localMode?(path: string): string;
  /**
   * Issue 15 (copy with a directory `src`): the files and directories under a local directory,
   * found as `readLocal` finds files (symlinks followed); undefined when `path` is not a directory.
   */
  localTree?(path: string): { directories: string[]; files: string[] } | undefined;
  /** Render template text with the host's variables. */
  render(text: string): string;
  /**
   * The template module: read local template `src` (found as `readLocal` finds it) and render it
   * with the host's variables, the module's Jinja options and its template_* variables; errors
   * point at the template file's own line and column.
   */
  renderTemplate(src: string, options: TemplateFileOptions): string;
  /**
   * Issue 15: a Jinja condition the module declared in `expressions`, evaluated exactly as `when`
   * is, with the task's variables (registered values too). Throws ModuleError when it cannot be.
   */
  condition(expr: string): boolean;
  /**
   * Issue 15: the value of a variable expression the module declared in `expressions` (debug's
   * `var`), or `{ undefined: true }`-like absence: undefined when it is not defined.
   */
  value(expr: string): { defined: true; value: unknown } | { defined: false };
}

/** Issue 15: the bare Jinja expressions in a task's arguments that the engine evaluates for the module. */
export interface Expressions {
  /** Conditions, evaluated as `when` is (assert's `that`). */
  conditions?: string[];
  /** Variable expressions whose value the module shows (debug's `var`). */
  values?: string[];
}

/** The template module's rendering options (Ansible's names, in plumb's spelling). */
export interface TemplateFileOptions {
  dest: string;
  trimBlocks: boolean;
  lstripBlocks: boolean;
  newlineSequence: string;
  blockStart: string;
  blockEnd: string;
  variableStart: string;
  variableEnd: string;
  commentStart: string;
  commentEnd: string;
}

/** The values of a module's facts, by the names the module gave them. */
export type FactValues<F> = { [K in keyof F]: Probed<NonNullable<F[K]>> };
export type FactRefs<F> = { [K in keyof F]: FactRef<NonNullable<F[K]>> };

export interface Module<A = any, F = any> {
  name: string;
  /** One line for docs and help. */
  summary: string;
  /** zod schema of the module's arguments (strict: unknown keys are errors), `.describe()` on every field. */
  schema: z.ZodType<A>;
  /** The argument a free-form string maps to (`command: postmap x` is `{ cmd: 'postmap x' }`). */
  freeForm?: string;
  /** Ansible's other names for arguments (`dest` for file's `path`), alias → argument; a task may use either. */
  aliases?: Readonly<Record<string, string>>;
  /**
   * Issue 15: where the module knowingly differs from Ansible, one sentence each (docs/modules.md);
   * test/modules/oracle/known-differences.yaml holds the differential cases that show them.
   */
  differences?: readonly string[];
  /** What a task without a name is called after "module: " (never file content). Gets the arguments as written. */
  title(args: Record<string, unknown>): string;
  /** The facts the task reads, by name. Pure. */
  facts(args: A, ctx: ModuleContext): FactRefs<F>;
  /**
   * Desired vs current: each change with the exact steps that make it. Empty → the task is ok.
   * Pure. Throws UnknownState (see `known`) when a fact it needs is unknown, ModuleError when
   * the task cannot be carried out on this host. Exec steps are shell command lines (the engine
   * runs them with `sh -c` semantics, with become if the task has it).
   */
  plan(args: A, facts: FactValues<F>, ctx: ModuleContext): Planned[];
  /** Combine the steps of all changes, for modules that batch (`batch` steps); the default runs them in order. */
  merge?(steps: Step[], args: A, ctx: ModuleContext): Step[];
  /**
   * Dotted paths (`file.sha256`, `conf.values.smtp_sasl_password`) of fact values that derive
   * from secret content. A saved plan keys their fingerprint by every secret when no secret
   * shows in the data itself.
   */
  secretFacts?(args: A, facts: FactValues<F>, ctx: ModuleContext): string[];
  /**
   * Issue 13: a module that sets Ansible facts (setup, service_facts, package_facts) — the facts
   * (names without `ansible_`) its task adds for the tasks after it, from its fact values.
   * Such a task is read-only: it is read in the probe batch and its plan is always ok.
   */
  setsFacts?(args: A, facts: FactValues<F>): Record<string, unknown>;
  /**
   * Issue 15: a read-only module whose `register:` holds more than changed/failed (stat's
   * `stat` dict), from its fact values; the engine adds it to the registered result.
   */
  registers?(args: A, facts: FactValues<F>, ctx: ModuleContext): Record<string, unknown>;
  /**
   * Issue 15: the message the task prints (debug's msg, assert's success_msg), shown in the plan
   * and the apply output; the engine redacts it, the report layer escapes it.
   */
  message?(args: A, facts: FactValues<F>, ctx: ModuleContext): string | undefined;
  /**
   * Issue 15: the bare Jinja expressions in the arguments (not `{{ }}` templates) that `ctx.condition`
   * and `ctx.value` answer. The engine evaluates them with the task's variables when it renders the
   * arguments, so what they read decides secrecy and, in a play with register, "known after apply".
   */
  expressions?(args: A): Expressions;
  /**
   * Issue 15: a control module (debug, assert, fail): it reads nothing on the host and changes
   * nothing, so it is decided from variables alone; when they are known only after apply, the plan
   * says so (the task is ok in the plan and decided when apply reaches it).
   */
  control?: boolean;
}

/** Declare a module; typed so that `plan` sees exactly the facts `facts` asked for. */
export function defineModule<A, F>(module: Module<A, F>): Module<A, F> {
  return module;
}
