/**
 * ini_file (community.general's): one option of one section of an INI file set to a value (or
 * values), or removed, or a whole section removed, as Ansible edits it line by line: a commented
 * `#option = x` is taken over, matching lines are rewritten in `option = value` form, extra ones
 * go (exclusive), missing ones are added after the section's last non-blank, non-comment line,
 * and a missing section is appended with its options. The probe reads the file whole; the edit
 * is planned here, with a diff, and written back atomically.
 *
 * Read as Ansible reads it (Python text mode, utf-8-sig): a BOM is dropped and CRLF/CR line ends
 * read as LF, so a changed file is written with LF; an unchanged one is not touched at all.
 *
 * A symlink as path: its target is read, and the write replaces the link by a regular file with
 * the target's mode and owner (Ansible renames its new file over the path); the target is kept.
 */
import { z } from 'zod';
import { noNulSchema, pathSchema } from './common.js';
import { fileAttrs, type FileState } from './files.js';
import { currentText, editPlan, secretTextFacts, textFileFact } from './text-edit.js';
import { defineModule, known, type ModuleContext, ModuleError, type Planned, UnknownState } from './types.js';

/** A value as Ansible's `str` arguments make one from YAML: true is "True", 5 is "5". */
const scalar = z.union([noNulSchema, z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)));
const oneLine = (what: string) => noNulSchema.refine((s) => !/[\r\n]/.test(s), { message: `${what} must be a single line` });

export const iniFileArgs = z
  .strictObject({
    path: pathSchema.describe('absolute path of the INI file on the host'),
    section: oneLine('section').nullable().optional().describe('the section ([name]); null or not given: the lines before the first section (global options)'),
    option: oneLine('option').optional().describe('the option (key) to set or remove; not given with state absent: the whole section is removed'),
    value: scalar.optional().describe('the value of option (a number or boolean is written as Ansible spells it: 5, True)'),
    values: z.array(scalar).optional().describe('several values: one `option = value` line each (with exclusive, no others)'),
    state: z.enum(['present', 'absent']).default('present').describe('present: option set (or section made); absent: option (or, without option, the section) removed'),
    exclusive: z.boolean().default(true).describe('present: remove other lines of option; absent: remove every line of option (false: only those holding one of values)'),
    no_extra_spaces: z.boolean().default(false).describe('write `option=value` instead of `option = value`'),
    allow_no_value: z.boolean().default(false).describe('an option without a value (a bare `option` line) is allowed'),
    create: z.boolean().default(true).describe('create the file (and its parent directories) when it does not exist; false: a missing file fails the task'),
    backup: z.boolean().default(false).describe('keep a timestamped copy (PATH.YYYY-MM-DD@HH:MM:SS~) of the old file before changing it'),
    ...fileAttrs,
  })
  .refine((a) => a.value === undefined || a.values === undefined, { message: 'ini_file takes `value` or `values`, not both' })
  .refine((a) => a.state === 'absent' || a.allow_no_value || a.value !== undefined || (a.values?.length ?? 0) > 0, {
    message: "ini_file: `value` or `values` must be given with state present (or allow_no_value: true), as Ansible's parameter check says",
  })
  .refine((a) => (a.section !== undefined && a.section !== null && a.section !== '') || a.option !== undefined, {
    message: 'ini_file needs a section, an option, or both',
  });

export type IniFileArgs = z.output<typeof iniFileArgs>;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `[#;]?( |\t)*(OPTION)( |\t)*(=|$)( |\t)*(.*)`, matched at the line's start as Python's re.match; group 6 is the value. */
function optionMatcher(option: string, commented: boolean): (line: string) => RegExpExecArray | null {
  const re = new RegExp(`^${commented ? '[#;]?' : ''}( |\\t)*(${escapeRegExp(option)})( |\\t)*(=|$)( |\\t)*(.*)`, 's');
  // Python's $ also matches before the line's own newline, and its . stops there: match without it.
  return (line) => re.exec(line.endsWith('\n') ? line.slice(0, -1) : line);
}

const blankOrComment = (line: string) => /^[ \t]*([#;].*)?$/s.test(line.endsWith('\n') ? line.slice(0, -1) : line);

/** A section name no file holds, standing for the lines before the first section (Ansible's own trick). */
const GLOBAL = 'ad01e11446efb704fcdbdb21f2c43757423d91c5';

export interface IniEdit {
  changed: boolean;
  content: string;
  summary: string;
}

/** Lines as Python's text mode reads them: BOM dropped, \r\n and \r as \n, each keeping its \n. */
function readLines(text: string): string[] {
  const normal = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return normal.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** The file's new content, step by step as Ansible's do_ini, with whether it changed. */
export function iniEdit(args: IniFileArgs, original: string): IniEdit {
  const option = args.option;
  const values: string[] = [];
  for (const v of args.value !== undefined ? [args.value] : (args.values ?? [])) if (!values.includes(v)) values.push(v);
  const format = (v: string) => (args.no_extra_spaces ? `${option}=${v}\n` : `${option} = ${v}\n`);
  const bare = `${option}\n`;
  let changed = false;
  let summary = 'OK';

  const lines = readLines(original);
  if (lines.length === 0) lines.push('\n');
  if (!lines[lines.length - 1].endsWith('\n')) {
    lines[lines.length - 1] += '\n';
    changed = true;
    summary = 'add the missing newline at the end';
  }
  lines.unshift(`[${GLOBAL}]`);
  lines.push('[');
  const section = args.section ? args.section : GLOBAL;

  let within = false;
  let start = 0;
  let end = 0;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith(`[${section}]`)) {
      within = true;
      start = i;
    } else if (line.startsWith('[') && within) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start);
  let body = lines.slice(start, end);
  const after = lines.slice(end);
  const touched = body.map(() => false);
  const update = (i: number, line: string) => {
    if (body[i] !== line) {
      changed = true;
      summary = `set ${option}`;
    }
    body[i] = line;
    touched[i] = true;
  };

  let noValuePresent = false;
  if (args.state === 'present' && option !== undefined) {
    const matches = optionMatcher(option, true);
    for (const [i, line] of body.entries()) {
      const m = matches(line);
      if (!m) continue;
      if (values.length > 0 && values.includes(m[6])) {
        if (m[6] === '' && args.allow_no_value) {
          update(i, bare);
          noValuePresent = true;
        } else update(i, format(m[6]));
        values.splice(values.indexOf(m[6]), 1);
      } else if (values.length === 0 && args.allow_no_value) {
        update(i, bare);
        noValuePresent = true;
        break;
      }
    }
  }

  if (args.state === 'present' && args.exclusive && !args.allow_no_value && option !== undefined) {
    const matches = optionMatcher(option, true);
    if (values.length > 0) {
      for (const [i, line] of body.entries()) {
        if (!touched[i] && matches(line)) {
          update(i, format(values.shift() as string));
          if (values.length === 0) break;
        }
      }
    }
    for (let i = body.length - 1; i > 0; i--) {
      if (!touched[i] && matches(body[i])) {
        body.splice(i, 1);
        touched.splice(i, 1);
        changed = true;
        summary = `remove other lines of ${option}`;
      }
    }
  }

  if (args.state === 'present') {
    for (let i = body.length; i > 0; i--) {
      if (blankOrComment(body[i - 1])) continue;
      if (option !== undefined && values.length > 0) {
        body.splice(i, 0, ...values.map(format));
        changed = true;
        summary = `add ${option}`;
      } else if (option !== undefined && values.length === 0 && args.allow_no_value && !noValuePresent) {
        body.splice(i, 0, bare);
        changed = true;
        summary = `add ${option}`;
      }
      break;
    }
  }

  if (args.state === 'absent') {
    if (option !== undefined) {
      const active = optionMatcher(option, false);
      const kept = args.exclusive
        ? body.filter((l) => !active(l))
        : values.length > 0
          ? body.filter((l) => !(active(l) && values.includes((active(l) as RegExpExecArray)[6])))
          : body;
      if (kept.length !== body.length) {
        changed = true;
        summary = `remove ${option}`;
        body = kept;
      }
    } else if (body.length > 0) {
      body = [];
      changed = true;
      summary = `remove section [${section}]`;
    }
  }

  const out = [...before, ...body, ...after];
  out.shift();
  out.pop();
  if (!within && args.state === 'present') {
    out.push(`[${section}]\n`);
    if (option !== undefined && values.length > 0) out.push(...values.map(format));
    else if (option !== undefined && args.allow_no_value) out.push(bare);
    changed = true;
    summary = option !== undefined ? `add section [${section}] with ${option}` : `add section [${section}]`;
  }
  return { changed, content: out.join(''), summary };
}

function plan(args: IniFileArgs, state: FileState, ctx: ModuleContext): Planned[] {
  const path = ctx.redact(args.path);
  // The link is read through to its target (the fact follows it); the path named is what is written.
  const original = currentText('ini_file', { path: args.path }, state, ctx);
  if (original === undefined && !args.create) throw new UnknownState(`${path} does not exist (create: false)`);
  const edit = iniEdit(args, original ?? '');
  if (state.resolved !== undefined && !edit.changed && (args.mode !== undefined || args.owner !== undefined || args.group !== undefined)) {
    throw new ModuleError(`ini_file: ${path} is a symlink; set mode, owner and group on its target ${ctx.redact(state.resolved)}`);
  }
  // Nothing to write and no file: a missing file is only made when something goes into it.
  if (original === undefined && !edit.changed) return [];
  return editPlan({ ...args, validate: undefined }, state, original, edit.changed ? edit.content : undefined, ctx.redact(edit.summary), ctx);
}

export const ini_file = defineModule<IniFileArgs, { file: FileState }>({
  name: 'ini_file',
  summary: 'one option of a section of an INI file set to a value (or values) or removed, or a section removed, edited as Ansible edits it, written atomically',
  schema: iniFileArgs,
  aliases: { dest: 'path' },
  title: (args) => `${String(args.path ?? args.dest ?? '')}${args.section ? ` [${String(args.section)}]` : ''}${args.option ? ` ${String(args.option)}` : ''}`,
  facts: (args) => ({ file: textFileFact(args.path) }),
  plan: (args, facts, ctx) => plan(args, known(facts.file), ctx),
  secretFacts: (args, facts, ctx) => secretTextFacts(facts.file, [args.value ?? '', ...(args.values ?? [])], ctx),
});
