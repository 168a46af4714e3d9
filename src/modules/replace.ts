/**
 * replace: every match of a regular expression in a file replaced, as Ansible's: the pattern is
 * Python's, MULTILINE (`^` and `$` at each line), the replacement may name groups (\1,
 * \g<name>); `after` and `before` narrow the edit to the text between their first matches.
 * The file must exist; the new content is written back atomically.
 */
import { z } from 'zod';
import { noNulSchema, pathSchema } from './common.js';
import { fileAttrs, type FileState, validateSchema } from './files.js';
import { pySubn } from '../py-replacement.js';
import { pyRegExp, pyRegexProblem, pyTemplateProblem } from './pyre.js';
import { currentText, editPlan, resolvedArgs, secretTextFacts, textFileFact } from './text-edit.js';
import { defineModule, known, type ModuleContext, type Planned, UnknownState } from './types.js';

const pattern = (flags: { multiline?: boolean; dotall?: boolean }) =>
  z.string().superRefine((r, ctx) => {
    const problem = pyRegexProblem(r, flags);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const replaceArgs = z
  .strictObject({
    path: pathSchema.describe('absolute path of the file on the host (a symlink: its target is edited)'),
    regexp: pattern({ multiline: true }).describe('a Python regular expression, MULTILINE: every match is replaced'),
    replace: noNulSchema
      .default('')
      .superRefine((t, ctx) => {
        const problem = pyTemplateProblem(t);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('what each match becomes; \\1 or \\g<name> insert a group (empty: matches are removed)'),
    after: pattern({ dotall: true }).optional().describe('only text after the first match of this expression is edited'),
    before: pattern({ dotall: true }).optional().describe('only text before the first match of this expression is edited'),
    backup: z.boolean().default(false).describe('keep a timestamped copy (PATH.YYYY-MM-DD@HH:MM:SS~) of the old file before changing it'),
    validate: validateSchema.optional(),
    ...fileAttrs,
  })
  .superRefine((a, ctx) => {
    const problem = pyRegexProblem(sectionPattern(a) ?? '', { dotall: true });
    if (problem) ctx.addIssue({ code: 'custom', message: `after/before: ${problem}`, path: ['after'] });
  });

export type ReplaceArgs = z.output<typeof replaceArgs>;

/** Ansible's section pattern: the text between `after` and `before` is group `subsection`. */
function sectionPattern(a: { after?: string; before?: string }): string | undefined {
  if (a.after && a.before) return `${a.after}(?P<subsection>.*?)${a.before}`;
  if (a.after) return `${a.after}(?P<subsection>.*)`;
  if (a.before) return `(?P<subsection>.*)${a.before}`;
  return undefined;
}

/** The new content and how many matches were replaced; undefined when nothing changes. */
export function replaced(args: ReplaceArgs, contents: string): { text: string; count: number } | undefined {
  let start = 0;
  let end = contents.length;
  const section = sectionPattern(args);
  if (section !== undefined) {
    const m = pyRegExp(section, { dotall: true }, 'd').exec(contents);
    const span = m?.indices?.groups?.subsection;
    if (!span) return undefined;
    [start, end] = span;
  }
  const part = contents.slice(start, end);
  const r = pySubn(pyRegExp(args.regexp, { multiline: true }), args.replace, part);
  if (r.count === 0 || r.text === part) return undefined;
  return { text: contents.slice(0, start) + r.text + contents.slice(end), count: r.count };
}

function plan(args: ReplaceArgs, state: FileState, ctx: ModuleContext): Planned[] {
  const before = currentText('replace', args, state, ctx);
  if (before === undefined) throw new UnknownState(`${ctx.redact(args.path)} does not exist`);
  const r = replaced(args, before);
  const summary = r ? `replace ${r.count} match${r.count === 1 ? '' : 'es'} of ${ctx.redact(args.regexp)}` : '';
  return editPlan(args, state, before, r?.text, summary, ctx);
}

export const replace = defineModule<ReplaceArgs, { file: FileState }>({
  name: 'replace',
  summary: 'every match of a regular expression in a text file replaced (Python syntax, MULTILINE), written atomically',
  schema: replaceArgs,
  aliases: { dest: 'path', destfile: 'path', name: 'path' },
  differences: [
    "Regular expressions are Python's as far as JavaScript can say them: `\\w`, `\\d` and `\\b` follow Unicode letters and digits as Python's do, except in a pattern only JavaScript's lenient mode reads (an escaped `-` outside a class, say), where they know ASCII only; verbose mode or inline flags after the start are refused when the playbook is checked.",
    'Not yet: `encoding` (files are edited as UTF-8; another encoding is refused when the playbook is checked).',
  ],
  title: (args) => String(args.path ?? args.dest ?? args.name ?? ''),
  facts: (args) => ({ file: textFileFact(args.path) }),
  plan(given, facts, ctx) {
    const state = known(facts.file);
    return plan(resolvedArgs(given, state), state, ctx);
  },
  secretFacts: (args, facts, ctx) => secretTextFacts(facts.file, [args.replace], ctx),
});
