/**
 * command and shell: run something. They cannot read the state they change,
 * so without a guard they always change and the plan says "will run". The
 * guards (creates, removes, unless) are evaluated in the probe.
 *
 * command never goes through a shell: `cmd` is split into words like a
 * POSIX shell would (quotes, backslashes) and each word is quoted again, so
 * `$HOME`, `*` and `;` reach the program literally (shell.ts is the one
 * that runs `cmd` with /bin/sh -c).
 */
import { z } from 'zod';
import { command as shellCommand, quote } from '../shell.js';
import { isTemplate } from '../template/expr.js';
import { freeForm, LITERAL_ONLY, noNulSchema, wordSchema } from './common.js';
import type { Change, Module, ModuleContext, Probed, Step } from './types.js';

export const UNLESS_LITERAL =
  '`unless` must be written literally: plan runs it on the host, so no variable may change what it executes. ' +
  'Test a path with `creates` or `removes` instead (they may use variables: plan only checks whether the path exists), ' +
  'or write the whole command out';

export const guards = {
  /** Skip when this path exists (relative paths are taken from `chdir`). Quoted and only tested with [ -e ]. */
  creates: wordSchema.optional(),
  /** Skip unless this path exists. */
  removes: wordSchema.optional(),
  /**
   * Skip when this shell command succeeds. The probe runs it, so plan would run whatever it says:
   * it must be the playbook's own text, never rendered from a variable.
   */
  unless: noNulSchema
    .min(1)
    .superRefine((u, ctx) => {
      if (isTemplate(u)) ctx.addIssue({ code: 'custom', message: UNLESS_LITERAL, params: { plumb: LITERAL_ONLY } });
    })
    .optional(),
  /** Run (and evaluate the guards) in this directory. */
  chdir: wordSchema.optional(),
};

export class SplitError extends Error {}

/** Split a command line into words the way sh does for quoting, without any expansion. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new SplitError('unterminated single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        // Inside double quotes a backslash only escapes these characters.
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1])) j++;
        word += line[j];
      }
      if (j >= line.length) throw new SplitError('unterminated double quote');
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new SplitError('trailing backslash');
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function splits(cmd: string): boolean {
  try {
    return splitWords(cmd).length > 0;
  } catch {
    return false;
  }
}

export const commandArgs = freeForm(
  z
    .strictObject({
      cmd: noNulSchema.min(1).refine(splits, { message: 'command line has an unterminated quote or no words' }).optional(),
      argv: z.array(noNulSchema).min(1).optional(),
      ...guards,
    })
    .refine((a) => (a.cmd === undefined) !== (a.argv === undefined), { message: 'command needs exactly one of `cmd` or `argv`' }),
);

export type CommandArgs = z.output<typeof commandArgs>;

type Guarded = { creates?: string; removes?: string; unless?: string; chdir?: string };

/** What the guards found. A missing field means that guard was not given. */
export interface GuardState {
  creates?: boolean;
  removes?: boolean;
  /** Exit code of the `unless` command. */
  unless?: number;
}

function hasGuard(args: Guarded): boolean {
  return args.creates !== undefined || args.removes !== undefined || args.unless !== undefined;
}

/** Prints `chdir missing`, or one line per guard: `creates 0|1`, `removes 0|1`, `unless RC`. */
function guardProbe(args: Guarded): string {
  if (!hasGuard(args)) return 'true';
  const checks: string[] = [];
  if (args.creates !== undefined) checks.push(`if [ -e ${quote(args.creates)} ]; then echo 'creates 1'; else echo 'creates 0'; fi`);
  if (args.removes !== undefined) checks.push(`if [ -e ${quote(args.removes)} ]; then echo 'removes 1'; else echo 'removes 0'; fi`);
  // Its own sh, so a syntax error in `unless` cannot break the batched probe script.
  if (args.unless !== undefined) checks.push(`/bin/sh -c -- ${quote(args.unless)} </dev/null >/dev/null 2>&1; echo "unless $?"`);
  const body = checks.join('\n');
  if (args.chdir === undefined) return body;
  return `if cd -- ${quote(args.chdir)} 2>/dev/null; then\n${body}\nelse echo 'chdir missing'; fi`;
}

function parseGuards(args: Guarded, stdout: string, ctx: ModuleContext): Probed<GuardState> {
  if (!hasGuard(args)) return { known: true, state: {} };
  const state: GuardState = {};
  for (const line of stdout.split('\n')) {
    if (line === 'chdir missing') return { known: false, reason: `chdir ${ctx.redact(args.chdir as string)} does not exist (yet)` };
    const m = /^(creates|removes|unless) (\d+)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'unless') state.unless = Number(m[2]);
    else state[m[1] as 'creates' | 'removes'] = m[2] === '1';
  }
  const missing = (['creates', 'removes', 'unless'] as const).filter((g) => args[g] !== undefined && state[g] === undefined);
  if (missing.length > 0) return { known: false, reason: `guard ${missing.join(', ')} was not evaluated (probe output incomplete)` };
  return { known: true, state };
}

function guardChanges(args: Guarded, state: GuardState, shown: string): Change[] {
  if (state.creates === true || state.removes === false || state.unless === 0) return [];
  const why: string[] = [];
  if (args.creates !== undefined) why.push(`${args.creates} does not exist`);
  if (args.removes !== undefined) why.push(`${args.removes} exists`);
  if (args.unless !== undefined) why.push(`unless exited ${state.unless}`);
  return [{ summary: `will run: ${shown}` + (why.length ? ` (${why.join(', ')})` : ''), target: shown }];
}

function inDir(args: Guarded, line: string): string {
  return args.chdir === undefined ? line : `cd -- ${quote(args.chdir)} && ${line}`;
}

export function runModule<A extends Guarded>(name: string, schema: z.ZodType<A>, commandLine: (args: A) => string, display: (args: A) => string): Module<A, GuardState> {
  return {
    name,
    schema,
    probe: (args) => guardProbe(args),
    parse: (args, out, ctx) => parseGuards(args, out.stdout, ctx),
    diff: (args, state, ctx) => guardChanges(args, state, ctx.redact(display(args))).map((c) => ({ ...c, summary: ctx.redact(c.summary) })),
    apply(args, _state, changes, ctx) {
      if (changes.length === 0) return [];
      const line = inDir(args, commandLine(args));
      const step: Step = { kind: 'exec', command: line, describe: ctx.redact(display(args)) };
      return [step];
    },
  };
}

export const command = runModule(
  'command',
  commandArgs,
  (a) => (a.argv !== undefined ? shellCommand(...a.argv) : shellCommand(...splitWords(a.cmd as string))),
  (a) => (a.argv !== undefined ? shellCommand(...a.argv) : (a.cmd as string)),
);
