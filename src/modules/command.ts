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
import { type GuardState, guardsOf } from '../facts/guards.js';
import { command as shellCommand, quote } from '../quote.js';
import { isTemplate } from '../template/expr.js';
import { freeForm, LITERAL_ONLY, noNulSchema, wordSchema } from './common.js';
import { type Change, defineModule, known, type Module } from './types.js';

export const UNLESS_LITERAL =
  '`unless` must be written literally: plan runs it on the host, so no variable may change what it executes. ' +
  'Test a path with `creates` or `removes` instead (they may use variables: plan only checks whether the path exists), ' +
  'or write the whole command out';

export const guards = {
  // Quoted and only tested with [ -e ].
  creates: wordSchema.optional().describe('skip when this path exists (relative paths are taken from chdir)'),
  removes: wordSchema.optional().describe('skip unless this path exists'),
  /**
   * Skip when this shell command succeeds. The probe runs it, so plan would run whatever it says:
   * it must be the playbook's own text, never rendered from a variable.
   */
  unless: noNulSchema
    .min(1)
    .superRefine((u, ctx) => {
      if (isTemplate(u)) ctx.addIssue({ code: 'custom', message: UNLESS_LITERAL, params: { plumb: LITERAL_ONLY } });
    })
    .optional()
    .describe('skip when this shell command succeeds (plan runs it, so it must be written literally)'),
  chdir: wordSchema.optional().describe('run (and evaluate the guards) in this directory'),
};

/** What the program reads, as Ansible's command/shell `stdin` (never shown in a plan: it may hold a secret). */
export const input = {
  stdin: z.string().optional().describe("text given to the program's standard input (never shown in a plan)"),
  stdin_add_newline: z.boolean().default(true).describe('end stdin with a newline'),
};

/**
 * The options Ansible takes out of a free-form command or shell line written with `key=value`
 * words (`touch /x creates=/x`); every other word stays in the command. plumb has creates, removes,
 * chdir, stdin and stdin_add_newline (and executable for shell); the others are then unknown arguments.
 */
export const ANSIBLE_COMMAND_OPTIONS = ['creates', 'removes', 'chdir', 'executable', 'warn', 'stdin', 'stdin_add_newline', 'strip_empty_ends'] as const;

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
  'cmd',
  z
    .strictObject({
      cmd: noNulSchema
        .min(1)
        .refine(splits, { message: 'command line has an unterminated quote or no words' })
        .optional()
        .describe('the command line, split into words like sh does; nothing is expanded'),
      argv: z.array(noNulSchema).min(1).optional().describe('the program and its arguments as a list (instead of cmd)'),
      ...guards,
      ...input,
    })
    .refine((a) => (a.cmd === undefined) !== (a.argv === undefined), { message: 'command needs exactly one of `cmd` or `argv`' }),
);

type Guarded = { creates?: string; removes?: string; unless?: string; chdir?: string; stdin?: string; stdin_add_newline?: boolean };

function hasGuard(args: Guarded): boolean {
  return args.creates !== undefined || args.removes !== undefined || args.unless !== undefined;
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

interface Run<A> {
  name: string;
  summary: string;
  schema: z.ZodType<A>;
  /** The shell command line that runs the task. */
  commandLine(args: A): string;
  /** What a plan shows for it. */
  display(args: A): string;
}

/** command and shell: without a guard they always change; with one, the guards fact decides. */
export function runModule<A extends Guarded>(run: Run<A>): Module<A, { guards?: GuardState }> {
  return defineModule<A, { guards?: GuardState }>({
    name: run.name,
    summary: run.summary,
    schema: run.schema,
    freeForm: 'cmd',
    title: (a) => (typeof a.cmd === 'string' ? a.cmd : Array.isArray(a.argv) ? a.argv.join(' ') : ''),
    facts: (args) => (hasGuard(args) ? { guards: guardsOf(args) } : {}),
    plan(args, facts, ctx) {
      const state = facts.guards ? known(facts.guards) : {};
      const shown = ctx.redact(run.display(args));
      const stdin = args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline === false ? '' : '\n');
      const step = { kind: 'exec' as const, command: inDir(args, run.commandLine(args)), describe: shown, ...(stdin !== undefined ? { stdin } : {}) };
      return guardChanges(args, state, shown).map((c) => ({ change: { ...c, summary: ctx.redact(c.summary) }, steps: [step] }));
    },
  });
}

export const command = runModule({
  name: 'command',
  summary: 'run a program without a shell (cmd split into words, nothing expanded); guards creates, removes and unless make it idempotent',
  schema: commandArgs,
  commandLine: (a) => (a.argv !== undefined ? shellCommand(...a.argv) : shellCommand(...splitWords(a.cmd as string))),
  display: (a) => (a.argv !== undefined ? shellCommand(...a.argv) : (a.cmd as string)),
});
