/**
 * blockinfile: a block of lines between two marker lines, inserted, replaced or removed, as
 * Ansible's: the markers are `marker` with {mark} as marker_begin / marker_end; an existing
 * pair is replaced where it stands; without one the block goes after the last line matching
 * `insertafter` (or before the last matching `insertbefore`, BOF, or at EOF). An empty block
 * or `state: absent` removes the pair and what is between.
 */
import { z } from 'zod';
import { noNulSchema, pathSchema } from './common.js';
import { fileAttrs, type FileState, validateSchema } from './files.js';
import { pyRegExp, pyRegexProblem, translatePyRegex } from './pyre.js';
import { currentText, editPlan, resolvedArgs, secretTextFacts, textFileFact } from './text-edit.js';
import { defineModule, known, type ModuleContext, type Planned, UnknownState } from './types.js';

const oneLine = noNulSchema.refine((s) => !/[\r\n]/.test(s), { message: 'must be a single line' });
const anchor = (word: string) =>
  z.string().superRefine((r, ctx) => {
    const problem = r === word ? undefined : pyRegexProblem(r);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const blockinfileArgs = z
  .strictObject({
    path: pathSchema.describe('absolute path of the file on the host (a symlink: its target is edited)'),
    block: noNulSchema.default('').describe('the lines between the markers; empty removes the block and its markers'),
    state: z.enum(['present', 'absent']).default('present').describe('absent removes the block and its markers'),
    marker: oneLine.default('# {mark} ANSIBLE MANAGED BLOCK').describe('the marker line; {mark} becomes marker_begin or marker_end'),
    marker_begin: oneLine.default('BEGIN').describe('what {mark} becomes in the first marker'),
    marker_end: oneLine.default('END').describe('what {mark} becomes in the last marker'),
    insertafter: anchor('EOF').optional().describe('EOF (the default), or a regular expression: a new block goes after the last matching line (EOF when none matches)'),
    insertbefore: anchor('BOF').optional().describe('BOF, or a regular expression: a new block goes before the last matching line (EOF when none matches)'),
    create: z.boolean().default(false).describe('create the file (and its parent directories) when it does not exist'),
    backup: z.boolean().default(false).describe('keep a timestamped copy (PATH.YYYY-MM-DD@HH:MM:SS~) of the old file before changing it'),
    validate: validateSchema.optional(),
    ...fileAttrs,
  })
  .refine((a) => a.insertafter === undefined || a.insertbefore === undefined, { message: 'blockinfile takes `insertafter` or `insertbefore`, not both' });

export type BlockinfileArgs = z.output<typeof blockinfileArgs>;

/** bytes.splitlines(keepends=True): lines with their own ending (\n, \r\n or \r). */
function splitKeep(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** The line index a new block goes to, as Ansible finds it. */
function insertAt(args: BlockinfileArgs, original: string, lines: string[]): number {
  const after = args.insertafter ?? (args.insertbefore === undefined ? 'EOF' : undefined);
  const source = after !== undefined && after !== 'EOF' ? after : args.insertbefore !== undefined && args.insertbefore !== 'BOF' ? args.insertbefore : undefined;
  if (source === undefined) return after !== undefined ? lines.length : 0;
  const re = pyRegExp(source);
  let found: number | undefined;
  if (translatePyRegex(source).flags.multiline) {
    // A MULTILINE pattern is searched in the whole file; its line is counted by newlines.
    const m = pyRegExp(source, { multiline: true }).exec(original);
    if (m) found = (original.slice(0, after !== undefined ? m.index + m[0].length : m.index).match(/\n/g) ?? []).length;
  } else {
    lines.forEach((line, i) => {
      if (re.test(line)) found = i;
    });
  }
  if (found === undefined) return lines.length;
  return after !== undefined ? found + 1 : found;
}

/** The file's new content, as Ansible's blockinfile computes it. */
export function blockContent(args: BlockinfileArgs, original: string): string {
  const lines = splitKeep(original);
  const begin = args.marker.split('{mark}').join(args.marker_begin) + '\n';
  const end = args.marker.split('{mark}').join(args.marker_end) + '\n';
  const present = args.state === 'present' && args.block !== '';
  const block = present ? [begin, ...splitKeep(args.block.endsWith('\n') ? args.block : args.block + '\n'), end] : [];
  let n0 = lines.lastIndexOf(begin);
  const n1 = lines.lastIndexOf(end);
  if (n0 < 0 || n1 < 0) n0 = insertAt(args, original, lines);
  else if (n0 < n1) lines.splice(n0, n1 - n0 + 1);
  else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  if (n0 > 0 && !lines[n0 - 1].endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...block);
  return lines.join('');
}

function plan(args: BlockinfileArgs, state: FileState, ctx: ModuleContext): Planned[] {
  const before = currentText('blockinfile', args, state, ctx);
  if (before === undefined) {
    if (!args.create) throw new UnknownState(`${ctx.redact(args.path)} does not exist (set create: true to create it)`);
    if (args.state === 'absent') return [];
  }
  const after = blockContent(args, before ?? '');
  const removed = args.state === 'absent' || args.block === '';
  const summary = removed
    ? 'remove the block'
    : before !== undefined && before.includes(args.marker.split('{mark}').join(args.marker_begin))
      ? 'replace the block'
      : 'insert the block';
  return editPlan(args, state, before, after, `${summary} ${ctx.redact(args.marker.split('{mark}').join(args.marker_begin))}`, ctx);
}

export const blockinfile = defineModule<BlockinfileArgs, { file: FileState }>({
  name: 'blockinfile',
  summary: 'a block of lines between marker lines inserted, replaced or removed in a text file, written atomically',
  schema: blockinfileArgs,
  aliases: { dest: 'path', destfile: 'path', name: 'path', content: 'block' },
  differences: [
    "Regular expressions are Python's as far as JavaScript can say them: `\\w`, `\\d` and `\\b` follow Unicode letters and digits as Python's do, except in a pattern only JavaScript's lenient mode reads (an escaped `-` outside a class, say), where they know ASCII only; verbose mode or inline flags after the start are refused when the playbook is checked.",
  ],
  title: (args) => String(args.path ?? args.dest ?? args.name ?? ''),
  facts: (args) => ({ file: textFileFact(args.path) }),
  plan(given, facts, ctx) {
    const state = known(facts.file);
    return plan(resolvedArgs(given, state), state, ctx);
  },
  secretFacts: (args, facts, ctx) => secretTextFacts(facts.file, [args.block], ctx),
});
