/**
 * cron: one job or one environment variable in a user's crontab (read with `crontab -l`,
 * installed whole with `crontab -u USER -`) or in a file under /etc/cron.d (written atomically,
 * 0644 when new). The table is edited as Ansible 2.14's cron module edits it, line for line,
 * because people switch from Ansible with crontabs it wrote: a job is the line after its
 * `#Ansible: NAME` marker, a variable is the first `NAME=` line, and "changed" follows
 * Ansible's rules, quirks included (a job found without its marker gets one; a table without a
 * final newline changes once).
 */
import { z } from 'zod';
import { type CrontabState, crontabOf } from '../facts/crontab.js';
import { command } from '../quote.js';
import { noNulSchema, ownerSchema, pathSchema } from './common.js';
import { fileFact, type FileState, unifiedDiff, writeStep } from './files.js';
import { currentText, TEXT_EDIT_LIMIT } from './text-edit.js';
import { type Change, defineModule, known, type ModuleContext, ModuleError, type Planned, type Step } from './types.js';

const MARKER = '#Ansible: ';
const SPECIAL_TIMES = ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly'] as const;

const oneLine = noNulSchema.refine((s) => !/[\r\n]/.test(s), { message: 'must be a single line' });
/** Ansible takes the time fields as strings; YAML gives `minute: 5` as a number, which means the same. */
const timeField = (what: string) =>
  z.union([z.string(), z.number().int().nonnegative()]).transform(String).pipe(oneLine).default('*').describe(`${what} (cron syntax: *, 5, */10, 1-5, 1,15), default *`);
/**
 * Environment variable names are compared as the start of a line (`NAME=`); Ansible reads the
 * name as a regular expression there, so only plain names mean the same thing in both.
 */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_RULE = 'not an environment variable name (letters, digits and _, not starting with a digit)';

export const cronArgs = z
  .strictObject({
    name: oneLine.min(1).describe('the job\'s name, kept in its "#Ansible: NAME" marker line; with env: the variable\'s name'),
    job: z
      .string()
      .transform((j) => j.replace(/^[\r\n]+|[\r\n]+$/g, ''))
      .pipe(oneLine)
      .optional()
      .describe("the command to run (leading and trailing line breaks dropped, as Ansible); with env: the variable's value"),
    user: ownerSchema.optional().describe("whose crontab (default: the connecting user's, or root's under become); written into each line of a cron_file"),
    cron_file: oneLine
      .min(1)
      .refine((f) => f !== '/etc/crontab', { message: 'will not manage /etc/crontab (Ansible refuses it too): use a file under /etc/cron.d' })
      .refine((f) => pathSchema.safeParse(cronFilePath(f)).success, { message: 'not a file name under /etc/cron.d or a normalized absolute path' })
      .optional()
      .describe('a file under /etc/cron.d (a bare name) or an absolute path, instead of the user crontab; needs user'),
    state: z.enum(['present', 'absent']).default('present').describe('absent removes the job (or variable); a cron_file left with nothing in it is deleted'),
    minute: timeField('the minute'),
    hour: timeField('the hour'),
    day: timeField('the day of the month'),
    month: timeField('the month'),
    weekday: timeField('the day of the week'),
    special_time: z.enum(SPECIAL_TIMES).optional().describe('@reboot, @daily, ... instead of the five time fields'),
    disabled: z.boolean().default(false).describe('write the job commented out (#) so it does not run'),
    env: z.boolean().default(false).describe('manage the variable NAME="JOB" instead of a job (new variables go first, or at insertafter / insertbefore)'),
    insertafter: z.string().regex(ENV_NAME, ENV_RULE).optional().describe('with env: a new variable goes after the line of this variable (which must exist)'),
    insertbefore: z.string().regex(ENV_NAME, ENV_RULE).optional().describe('with env: a new variable goes before the line of this variable (which must exist)'),
    backup: z.boolean().default(false).describe('before a change, save the table as it was to a new /tmp/crontabXXXXXXXX file (0600), as Ansible does'),
  })
  .superRefine((a, ctx) => {
    const problem = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    if (a.insertafter !== undefined && a.insertbefore !== undefined) problem('cron takes `insertafter` or `insertbefore`, not both', 'insertbefore');
    if (a.special_time !== undefined && [a.minute, a.hour, a.day, a.month, a.weekday].some((f) => f !== '*'))
      problem('special_time replaces minute, hour, day, month and weekday: give one or the other', 'special_time');
    if (a.env && !ENV_NAME.test(a.name)) problem(ENV_RULE, 'name');
    if (a.state !== 'present') return;
    if (a.cron_file !== undefined && a.user === undefined) problem('a cron_file needs `user` (the user its jobs run as)', 'user');
    if (a.job === undefined) problem('cron needs `job` (the command, or with env the value) to add a job or variable', 'job');
    if ((a.insertafter !== undefined || a.insertbefore !== undefined) && !a.env) problem('insertafter and insertbefore only go with env: true', 'insertafter');
  });

export type CronArgs = z.output<typeof cronArgs>;

/** Where a cron_file lives: a bare name is under /etc/cron.d, as Ansible reads it. */
export function cronFilePath(cronFile: string): string {
  return cronFile.startsWith('/') ? cronFile : `/etc/cron.d/${cronFile}`;
}

/** Python's str.splitlines(): every line break Python knows, no empty last line. */
export function pySplitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The lines of a table and the text they came from (Ansible decides "changed" on both). */
interface Table {
  lines: string[];
  existing: string;
}

/** The header `crontab -l` prints on some systems (Debian's hides it): dropped from the first three lines, as Ansible does. */
const HEADER = [/^# DO NOT EDIT THIS FILE - edit the master and reinstall./, /^# \(\/tmp\/.*installed on.*\)/, /^# \(.*version.*\)/];

function userTable(listed: string): Table {
  let existing = listed;
  const lines: string[] = [];
  pySplitLines(listed).forEach((line, i) => {
    if (i > 2 || !HEADER.some((h) => h.test(line))) {
      lines.push(line);
      return;
    }
    const at = existing.indexOf(line);
    if (at >= 0) {
      const after = existing[at + line.length];
      existing = existing.slice(0, at) + existing.slice(at + line.length + (after === '\r' || after === '\n' ? 1 : 0));
    }
  });
  return { lines, existing };
}

/** Ansible's rendering: the lines joined, trailing line breaks folded into one final newline. */
export function renderTable(lines: string[]): string {
  const text = lines.join('\n');
  return text === '' ? '' : text.replace(/[\r\n]+$/, '') + '\n';
}

const isMarker = (line: string) => line.startsWith(MARKER);
const markerName = (line: string) => line.split(MARKER).join('');

/**
 * The job named `name`: the line after its marker, else (given `job`) a line equal to the job,
 * which then gets its marker (`adopted`: Ansible rewrites it, so the task changes). A marker that
 * is followed by another marker's line is not found, as in Ansible.
 */
function findJob(lines: string[], name: string, job?: string): { line: string; adopted?: true } | undefined {
  let pending: string | undefined;
  for (const line of lines) {
    if (pending !== undefined) {
      if (pending === name) return { line };
      pending = undefined;
    } else if (isMarker(line)) pending = markerName(line);
  }
  if (job === undefined) return undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== job) continue;
    // Python's lines[i - 1]: before the first line comes the last.
    const previous = lines[(i - 1 + lines.length) % lines.length];
    if (!isMarker(previous)) {
      lines.splice(i, 0, MARKER + name);
      return { line: job, adopted: true };
    }
    if (previous === `${MARKER}None`) {
      lines[(i - 1 + lines.length) % lines.length] = MARKER + name;
      return { line: job, adopted: true };
    }
  }
  return undefined;
}

/** Every `#Ansible: NAME` marker's next line replaced by `job` (or both lines dropped when undefined). */
function replaceJob(lines: string[], name: string, job: string | undefined): string[] {
  const out: string[] = [];
  let marker: string | undefined;
  for (const line of lines) {
    if (marker !== undefined) {
      if (job !== undefined) out.push(marker, job);
      marker = undefined;
    } else if (line === MARKER + name) marker = line;
    else out.push(line);
  }
  return out;
}

const envIndex = (lines: string[], name: string) => lines.findIndex((l) => l.startsWith(`${name}=`));

/** The job line as Ansible writes it: a cron_file line names the user between the time and the command. */
export function jobLine(args: CronArgs): string {
  const when = args.special_time !== undefined ? `@${args.special_time}` : [args.minute, args.hour, args.day, args.month, args.weekday].join(' ');
  const who = args.cron_file !== undefined ? ` ${args.user}` : '';
  return `${args.disabled ? '#' : ''}${when}${who} ${args.job ?? ''}`;
}

interface Edit {
  lines: string[];
  /** What changed, for the plan; undefined: nothing. */
  summary?: string;
}

function editEnv(args: CronArgs, lines: string[]): Edit {
  const decl = `${args.name}="${args.job ?? ''}"`;
  const at = envIndex(lines, args.name);
  if (args.state === 'absent') {
    if (at < 0) return { lines };
    return { lines: lines.filter((l) => !l.startsWith(`${args.name}=`)), summary: `remove variable ${args.name}` };
  }
  if (at >= 0) {
    if (lines[at] === decl) return { lines };
    return { lines: lines.map((l) => (l.startsWith(`${args.name}=`) ? decl : l)), summary: `set variable ${args.name}` };
  }
  const anchor = args.insertafter ?? args.insertbefore;
  let index = 0;
  if (anchor !== undefined) {
    const found = envIndex(lines, anchor);
    if (found < 0) throw new ModuleError(`cron: variable ${anchor} (${args.insertafter !== undefined ? 'insertafter' : 'insertbefore'}) is not in the crontab`);
    index = args.insertafter !== undefined ? found + 1 : found;
  }
  return { lines: [...lines.slice(0, index), decl, ...lines.slice(index)], summary: `add variable ${args.name}` };
}

function editJob(args: CronArgs, original: string[]): Edit {
  const lines = [...original];
  if (args.state === 'absent') {
    if (findJob(lines, args.name) === undefined) return { lines };
    return { lines: replaceJob(lines, args.name, undefined), summary: `remove job ${args.name}` };
  }
  const job = jobLine(args);
  const found = findJob(lines, args.name, job);
  if (found === undefined) return { lines: [...lines, MARKER + args.name, job], summary: `add job ${args.name}` };
  if (found.line !== job) return { lines: replaceJob(lines, args.name, job), summary: `update job ${args.name}` };
  if (found.adopted) return { lines: replaceJob(lines, args.name, job), summary: `mark job ${args.name} with its #Ansible marker` };
  return { lines };
}

interface Target {
  /** What the plan calls the table: the file's path or "crontab of USER". */
  label: string;
  table: Table;
  file?: { path: string; state: FileState };
}

function backupStep(table: Table, ctx: ModuleContext, label: string): Step {
  const run = 'umask 077 && b=$(mktemp /tmp/crontabXXXXXXXX) && cat > "$b" && echo "$b"';
  return { kind: 'exec', command: run, stdin: renderTable(table.lines), describe: `back up ${ctx.redact(label)} to /tmp/crontabXXXXXXXX` };
}

function writeSteps(args: CronArgs, target: Target, content: string, secret: boolean, ctx: ModuleContext): Step[] {
  if (target.file !== undefined) {
    const { path, state } = target.file;
    // Ansible sets umask 022 before it creates the file; an existing one keeps its mode and owner.
    return [writeStep(path, content, state.type === 'absent' ? { mode: '0644' } : {}, state, secret, ctx)];
  }
  const install = args.user !== undefined ? command('crontab', '-u', args.user, '-') : command('crontab', '-');
  const bytes = Buffer.byteLength(content);
  return [{ kind: 'exec', command: install, stdin: content, describe: `install ${ctx.redact(target.label)} (${bytes} bytes${secret ? ', secret' : ''})` }];
}

function plan(args: CronArgs, target: Target, ctx: ModuleContext): Planned[] {
  const { table } = target;
  const edit = args.env ? editEnv(args, [...table.lines]) : editJob(args, table.lines);
  const secret = ctx.hasSecret(table.existing) || ctx.hasSecret(args.job ?? '');
  const backup = args.backup ? [backupStep(table, ctx, target.label)] : [];
  const label = ctx.redact(target.label);
  if (edit.summary !== undefined && target.file !== undefined && args.state === 'absent' && !args.env && edit.lines.every((l) => l.trim() === '')) {
    // The file held nothing but this job: Ansible deletes it.
    // Ansible unlinks the path it was given: a symlink goes, not what it points to.
    const remove = command('rm', '-f', '--', cronFilePath(args.cron_file as string));
    const change: Change = { summary: `${ctx.redact(edit.summary)}, delete ${label} (nothing left in it)`, target: label, before: 'present', after: 'absent' };
    return [{ change, steps: [...backup, { kind: 'exec', command: remove, describe: ctx.redact(remove) }] }];
  }
  let summary = edit.summary;
  // Nothing to change, but a table without a final newline gets one (Ansible's rule).
  if (summary === undefined && table.existing !== '' && !/[\r\n]$/.test(table.existing)) summary = 'add the missing final newline';
  if (summary === undefined) return [];
  const after = renderTable(edit.lines);
  const before = target.file?.state.type === 'absent' ? undefined : table.existing;
  const change: Change = secret
    ? { summary: `${ctx.redact(summary)} (secret)`, target: label, secret: true }
    : { summary: before === undefined ? `create ${label}, ${summary}` : summary, target: label, diff: unifiedDiff(label, before, after) };
  return [{ change, steps: [...backup, ...writeSteps(args, target, after, secret, ctx)] }];
}

interface CronFacts {
  crontab?: CrontabState;
  file?: FileState;
}

export const cron = defineModule<CronArgs, CronFacts>({
  name: 'cron',
  summary: "a job or variable in a user's crontab or an /etc/cron.d file, in Ansible's #Ansible: NAME format",
  schema: cronArgs,
  aliases: { value: 'job', dom: 'day', dow: 'weekday' },
  differences: [
    'A job or variable value with a line break inside it is refused when the playbook is checked (Ansible warns and writes a table that changes on every run).',
    'Environment variable names (name with env, insertafter, insertbefore) are plain names only: Ansible reads them as regular expressions.',
    'A cron_file is managed without the crontab command being installed (Ansible requires it even then), and is written atomically (Ansible rewrites it in place).',
    'A user that does not exist yet leaves the task unknown until apply (created by an earlier task?) instead of failing.',
  ],
  title: (args) => String(args.name ?? ''),
  facts: (args): { crontab?: ReturnType<typeof crontabOf>; file?: ReturnType<typeof fileFact> } =>
    args.cron_file !== undefined ? { file: fileFact(cronFilePath(args.cron_file), { hash: true, fetchLimit: TEXT_EDIT_LIMIT, follow: true }) } : { crontab: crontabOf(args.user) },
  plan(args, facts, ctx) {
    if (args.cron_file !== undefined) {
      const state = known(facts.file as NonNullable<typeof facts.file>);
      // Ansible opens the path, so a symlink's target is what is read and written.
      const path = state.resolved ?? cronFilePath(args.cron_file);
      const text = currentText('cron', { path }, state, ctx) ?? '';
      return plan(args, { label: path, table: { lines: pySplitLines(text), existing: text }, file: { path, state } }, ctx);
    }
    const listed = known(facts.crontab as NonNullable<typeof facts.crontab>);
    if (listed.rc !== 0 && listed.rc !== 1) throw new ModuleError(`cron: crontab -l failed (exit ${listed.rc})`);
    const label = args.user !== undefined ? `crontab of ${args.user}` : 'crontab';
    return plan(args, { label, table: userTable(listed.content) }, ctx);
  },
  secretFacts: (args, facts, ctx) => {
    const content = facts.file?.known ? facts.file.state.content : facts.crontab?.known ? facts.crontab.state.content : undefined;
    if (!ctx.hasSecret(args.job ?? '') && !(content !== undefined && ctx.hasSecret(content))) return [];
    return args.cron_file !== undefined ? ['file.content', 'file.sha256'] : ['crontab.content'];
  },
});
