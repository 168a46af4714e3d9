/**
 * lineinfile: one line present (replacing the last line matching `regexp`)
 * or absent. The probe fetches the file; the new content is computed here
 * and written atomically, so the edit is never half-applied on the host.
 *
 * Symlinks, as Ansible: a path that is a symlink is resolved (readlink -f) and
 * its target is read and edited; the link stays. A link that cannot be resolved
 * (a loop) fails the task and says where it points.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { command } from '../quote.js';
import { pathSchema } from './common.js';
import {
  attrChanges,
  attrPlans,
  backupCommand,
  compiles,
  fileAttrs,
  fileFact,
  type FileState,
  madeByWrite,
  pythonRegExp,
  regexSchema,
  shown,
  unifiedDiff,
  validateSchema,
  validateStep,
  writeStep,
} from './files.js';
import { type Change, defineModule, known, type ModuleContext, ModuleError, type Planned, type Step, UnknownState } from './types.js';

/** Files larger than this are not edited (the probe would carry them whole). */
export const LINEINFILE_LIMIT = 1024 * 1024;

export const lineinfileArgs = z
  .strictObject({
    path: pathSchema.describe('absolute path of the file on the host'),
    // Checked on the field so a line rendered from a variable is reported as `line`, naming it.
    line: z
      .string()
      .refine((l) => !l.includes('\n'), { message: '`line` must be a single line (no newline)' })
      .refine((l) => !l.includes('\0'), { message: 'contains a NUL byte' })
      .optional()
      .describe('the line that must be present (or, with state absent, removed)'),
    regexp: regexSchema.optional().describe('a regular expression: the last matching line is replaced (state absent: every match is removed)'),
    state: z.enum(['present', 'absent']).default('present').describe('whether the line is present or absent'),
    insertafter: z
      .string()
      .refine((r) => r === 'EOF' || compiles(r), { message: 'not a valid regular expression' })
      .optional()
      .describe('EOF (the default), or a regular expression: the line goes after its last match (EOF when none matches)'),
    insertbefore: z
      .string()
      .refine((r) => r === 'BOF' || compiles(r), { message: 'not a valid regular expression' })
      .optional()
      .describe('BOF, or a regular expression: the line goes before its last match (EOF when none matches)'),
    firstmatch: z.boolean().default(false).describe('regexp, insertafter and insertbefore use the first matching line instead of the last'),
    backrefs: z.boolean().default(false).describe('line may use \\1 or \\g<name> for regexp groups; when regexp matches nothing the file is left alone'),
    create: z.boolean().default(false).describe('create the file when it does not exist'),
    backup: z.boolean().default(false).describe('keep a timestamped copy (PATH.YYYY-MM-DD@HH:MM:SS~) of the old file before changing it'),
    validate: validateSchema.optional(),
    ...fileAttrs,
  })
  .refine((a) => a.insertafter === undefined || a.insertbefore === undefined, { message: 'lineinfile takes `insertafter` or `insertbefore`, not both' })
  .refine((a) => !a.backrefs || a.regexp !== undefined, { message: 'backrefs needs `regexp`' })
  .refine((a) => a.state === 'absent' || a.line !== undefined, { message: 'lineinfile with state present needs `line`' })
  .refine((a) => a.state === 'present' || a.line !== undefined || a.regexp !== undefined, {
    message: 'lineinfile with state absent needs `regexp` or `line`',
  });

export type LineinfileArgs = z.output<typeof lineinfileArgs>;

interface Edit {
  content: string;
  summary: string;
}

/** The index of the last (or first) line matching `re`, or -1. */
function findLine(lines: string[], re: RegExp, first: boolean): number {
  let found = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!re.test(lines[i])) continue;
    found = i;
    if (first) break;
  }
  return found;
}

/** Python's match.expand as Ansible's backrefs use it: \1..\99, \g<n>, \g<name> and \\; an unmatched group is empty. */
export function expandBackrefs(template: string, m: RegExpExecArray): string {
  return template.replace(/\\g<(\w+)>|\\(\d{1,2})|\\\\/g, (all, name: string | undefined, num: string | undefined) => {
    if (all === '\\\\') return '\\';
    const key = name ?? num ?? '';
    const value = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
    return value ?? '';
  });
}

/** The file's content after the edit, or undefined when it already complies. */
export function editLines(args: LineinfileArgs, before: string, ctx: ModuleContext): Edit | undefined {
  const lines = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const endsWithNewline = before.endsWith('\n');
  const join = (ls: string[], forceNewline: boolean) => (ls.length === 0 ? '' : ls.join('\n') + (forceNewline || endsWithNewline ? '\n' : ''));
  const matches = args.regexp !== undefined ? pythonRegExp(args.regexp) : undefined;
  // As Ansible: a line is compared without its line ending, so a CRLF file's "a\r" holds "a".
  const same = (l: string) => l.replace(/\r$/, '') === args.line;

  if (args.state === 'absent') {
    const kept = lines.filter((l) => (matches ? !matches.test(l) : !same(l)));
    const removed = lines.length - kept.length;
    if (removed === 0) return undefined;
    const what = matches ? `matching ${shown(ctx, args.regexp as string)}` : shown(ctx, args.line as string);
    return { content: join(kept, false), summary: `remove ${removed} line${removed === 1 ? '' : 's'} ${what}` };
  }

  let line = args.line as string;
  if (matches) {
    const last = findLine(lines, matches, args.firstmatch);
    // backrefs: the line is the regexp's match expanded; no match leaves the file alone.
    if (args.backrefs) {
      if (last < 0) return undefined;
      line = expandBackrefs(line, matches.exec(lines[last]) as RegExpExecArray);
    }
    if (last >= 0) {
      if (lines[last] === line) return undefined;
      const old = lines[last];
      const next = [...lines];
      next[last] = line;
      return { content: join(next, false), summary: `replace line ${shown(ctx, old)} → ${shown(ctx, line)}` };
    }
  }
  // Ansible's rule: with no regexp match, a line already present counts as present; it rewrites
  // the last such line with its own ending, so a CRLF line becomes LF.
  const present = lines.map(same).lastIndexOf(true);
  if (present >= 0 && lines[present] === line) return undefined;
  if (present >= 0) {
    const next = [...lines];
    next[present] = line;
    return { content: join(next, false), summary: `rewrite line ${shown(ctx, line)} with a LF ending` };
  }
  const next = [...lines];
  let at = next.length;
  if (args.insertbefore === 'BOF') {
    at = 0;
  } else if (args.insertbefore !== undefined) {
    const found = findLine(next, pythonRegExp(args.insertbefore), args.firstmatch);
    if (found >= 0) at = found;
  } else if (args.insertafter !== undefined && args.insertafter !== 'EOF') {
    const found = findLine(next, pythonRegExp(args.insertafter), args.firstmatch);
    if (found >= 0) at = found + 1;
  }
  next.splice(at, 0, line);
  return { content: join(next, true), summary: `add line ${shown(ctx, line)}` };
}

/** The state lineinfile can edit: a regular UTF-8 file it has read whole, or nothing (create). */
function editable(args: LineinfileArgs, state: FileState, ctx: ModuleContext): FileState {
  const path = ctx.redact(args.path);
  if (state.type === 'absent' && args.state === 'present' && !args.create) throw new UnknownState(`${path} does not exist (set create: true to create it)`);
  if (state.type === 'file' && state.content === undefined) {
    throw new UnknownState(`${path} is larger than ${LINEINFILE_LIMIT} bytes or not UTF-8 text; lineinfile does not edit it`);
  }
  return state;
}

function plan(args: LineinfileArgs, state: FileState, ctx: ModuleContext): Planned[] {
  const path = ctx.redact(args.path);
  if (state.type === 'link') {
    throw new ModuleError(`lineinfile: ${path} is a symlink to ${ctx.redact(state.target ?? '')}; it cannot be resolved (a loop?); point path at the target`);
  }
  if (state.type === 'directory' || state.type === 'other') throw new ModuleError(`lineinfile: ${path} is not a regular file`);
  if (state.type === 'absent' && args.state === 'absent') return [];
  const before = state.type === 'file' ? (state.content as string) : '';
  const edit = editLines(args, before, ctx);
  const attrs = attrChanges(path, args, state);
  if (edit === undefined && state.type === 'file') return attrPlans(attrs, ctx);
  // create: true on a missing file whose edit is empty still creates the (empty) file.
  const content = edit?.content ?? before;
  const secret = ctx.hasSecret(before) || ctx.hasSecret(content);
  const summary = state.type === 'absent' ? `create ${path}` + (edit ? `, ${edit.summary}` : '') : (edit as Edit).summary;
  const change: Change = secret
    ? { summary: `${state.type === 'absent' ? `create ${path}` : 'content changed'} (secret)`, target: path, secret: true }
    : { summary, target: path, diff: unifiedDiff(path, state.type === 'absent' ? undefined : before, content) };
  const write = writeStep(args.path, content, args, state, secret, ctx);
  const steps: Step[] = [];
  if (args.validate !== undefined) steps.push(validateStep(args.validate, args.path, content, ctx));
  if (state.type === 'absent') {
    // As Ansible's create: missing parent directories are made (mode from the umask, as mkdir gives).
    const parents = command('mkdir', '-p', '--', posix.dirname(args.path));
    steps.push({ kind: 'exec', command: parents, describe: ctx.redact(parents) });
  } else if (args.backup) {
    const backup = backupCommand(args.path);
    steps.push({ kind: 'exec', command: backup, describe: ctx.redact(backup) });
  }
  steps.push(write);
  return [{ change, steps }, ...madeByWrite(attrs)];
}

export const lineinfile = defineModule<LineinfileArgs, { file: FileState }>({
  name: 'lineinfile',
  summary: 'one line present (replacing the last line matching regexp) or absent in a text file, written atomically',
  schema: lineinfileArgs,
  aliases: { dest: 'path', destfile: 'path', name: 'path', value: 'line', regex: 'regexp' },
  title: (args) => String(args.path ?? ''),
  // follow: a symlink's target is read and edited, the link kept (Ansible's lineinfile follows links).
  facts: (args) => ({ file: fileFact(args.path, { hash: true, fetchLimit: LINEINFILE_LIMIT, follow: true }) }),
  plan(given, facts, ctx) {
    const state = known(facts.file);
    const args = state.resolved !== undefined ? { ...given, path: state.resolved } : given;
    return plan(args, editable(args, state, ctx), ctx);
  },
  // The fact carries the whole file so the edit is computed locally; mark it when secrets are involved.
  secretFacts(args, facts, ctx) {
    const content = facts.file.known ? facts.file.state.content : undefined;
    return (args.line !== undefined && ctx.hasSecret(args.line)) || (content !== undefined && ctx.hasSecret(content)) ? ['file.content', 'file.sha256'] : [];
  },
});
