/**
 * What copy, template, file and lineinfile share: the attribute comparison
 * that turns mode, owner and group into changes and chmod/chown commands, and
 * the one write step that replaces a file's content. The path itself is read
 * by the file fact (src/facts/file.ts).
 */
// Only the patch maker (4 modules), not the whole package (19): start-up pays for each module it loads.
import { createTwoFilesPatch } from 'diff/lib/patch/create.js';
import { z } from 'zod';
import { type FileState, normalizeMode } from '../facts/file.js';
import { command, quote } from '../quote.js';
import { posix } from 'node:path';
import { splitWords } from './command.js';
import { modeSchema, noNulSchema, ownerSchema } from './common.js';
import { applySymbolicMode, isSymbolicMode } from './symbolic-mode.js';
import type { Change, ModuleContext, Planned, Step } from './types.js';

export { asText, type FileState, fileFact, sha256 } from '../facts/file.js';

export const fileAttrs = {
  mode: modeSchema.optional().describe('octal mode as a quoted string ("0644"), or symbolic ("u=rw,g=r,o=", "a+x"), applied to the current mode as chmod does'),
  owner: ownerSchema.optional().describe('user name or numeric id'),
  group: ownerSchema.optional().describe('group name or numeric id'),
};

/** Remote content up to this size is fetched (base64) so a plan can show a unified diff. */
export const DIFF_CONTENT_LIMIT = 64 * 1024;

function ownerMatches(wanted: string, name: string | undefined, id: number | undefined): boolean {
  return /^\d+$/.test(wanted) ? Number(wanted) === id : wanted === name;
}

export interface Attrs {
  mode?: string;
  owner?: string;
  group?: string;
}

/**
 * Changes for mode, owner and group of an existing path, each paired with
 * the command that fixes it. `state` absent means the path is about to be
 * created, so every requested attribute counts as a change.
 */
export function attrChanges(path: string, wanted: Attrs, state: FileState, directory = state.type === 'directory'): Array<{ change: Change; command: string }> {
  const out: Array<{ change: Change; command: string }> = [];
  const exists = state.type !== 'absent';
  const after = wanted.mode === undefined ? undefined : wantedMode(wanted.mode, state, directory);
  if (after !== undefined && (!exists || after !== state.mode)) {
    out.push({
      change: { summary: exists ? `mode ${state.mode} → ${after}` : `mode ${after}`, target: `${path} mode`, before: exists ? state.mode : null, after },
      command: `${refuseLink(path)}; ${command('chmod', after, '--', path)}`,
    });
  }
  if (wanted.owner !== undefined && (!exists || !ownerMatches(wanted.owner, state.owner, state.uid))) {
    out.push({
      change: {
        summary: exists ? `owner ${state.owner} → ${wanted.owner}` : `owner ${wanted.owner}`,
        target: `${path} owner`,
        before: exists ? state.owner : null,
        after: wanted.owner,
      },
      command: command('chown', '-h', '--', wanted.owner, path),
    });
  }
  if (wanted.group !== undefined && (!exists || !ownerMatches(wanted.group, state.group, state.gid))) {
    out.push({
      change: {
        summary: exists ? `group ${state.group} → ${wanted.group}` : `group ${wanted.group}`,
        target: `${path} group`,
        before: exists ? state.group : null,
        after: wanted.group,
      },
      command: command('chgrp', '-h', '--', wanted.group, path),
    });
  }
  return out;
}

/**
 * The probe saw no symlink, but one may have been planted since (plumb runs as
 * root, so a chmod through a link would hand its target to whoever planted it).
 * chown and chgrp take -h; chmod has no such flag, so it checks first.
 */
function refuseLink(path: string): string {
  return `if [ -L ${quote(path)} ]; then echo ${quote(`${path} became a symlink after it was read; not changing its mode through it`)} >&2; exit 1; fi`;
}

/** A unified diff of two texts, labelled with the path; `before` undefined means a new file. */
export function unifiedDiff(path: string, before: string | undefined, after: string): string {
  return createTwoFilesPatch(before === undefined ? '/dev/null' : path, path, before ?? '', after, undefined, undefined, { context: 3 });
}

/** The redacted text a human reads for `value`, shortened for a one-line summary. */
export function shown(ctx: ModuleContext, value: string, max = 80): string {
  const text = ctx.redact(value).replace(/\n/g, '\\n');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Mode/owner/group for a write: what the task asks for, else what the file has now, so an overwrite keeps them. */
export function writeAttrs(wanted: Attrs, state: FileState): Attrs {
  const keep = state.type === 'file';
  return {
    mode: wanted.mode !== undefined ? wantedMode(wanted.mode, state, false) : keep ? state.mode : newFileMode(state),
    // Numeric ids: a file owned by a uid without a name still keeps its owner.
    owner: wanted.owner ?? (keep ? String(state.uid) : undefined),
    group: wanted.group ?? (keep ? String(state.gid) : undefined),
  };
}

/**
 * A new file without a requested mode gets what the host's umask allows (0640 under 027), as
 * Ansible does: never wider than the admin set. Unknown umask: the transport's own default.
 */
function newFileMode(state: FileState): string | undefined {
  if (state.umask === undefined) return undefined;
  return normalizeMode((0o666 & ~parseInt(state.umask, 8)).toString(8));
}

/**
 * The octal mode a task's `mode` asks for. A symbolic one applies to the path's mode now, or, for
 * a path about to be made, to what the umask gives it (022 when the probe did not say).
 */
export function wantedMode(mode: string, state: FileState, directory: boolean): string {
  if (!isSymbolicMode(mode)) return normalizeMode(mode);
  const umask = parseInt(state.umask ?? '0022', 8);
  const exists = (state.type === 'file' || state.type === 'directory') && state.mode !== undefined;
  const base = exists ? parseInt(state.mode as string, 8) : (directory ? 0o777 : 0o666) & ~umask;
  return applySymbolicMode(mode, base, directory, umask);
}

/** `cp -P -p` of the current file to PATH.<timestamp>~ (Ansible's backup naming), made on the host at apply time. */
export function backupCommand(path: string): string {
  // -P: a symlink is backed up as the link, never as a copy of what it points to.
  return `${command('cp', '-P', '-p', '--', path)} ${quote(path)}."$(date +%Y-%m-%d@%H:%M:%S)~"`;
}

/** Ansible's `validate`: a command with %s, run on the new content before it replaces the file. */
export const validateSchema = noNulSchema
  .refine((v) => v.includes('%s'), { message: 'validate must contain %s (where the new file goes)' })
  .refine((v) => splitsIntoWords(v), { message: 'validate has an unterminated quote' })
  .describe('a command (no shell) run on the new content first, %s naming it; the file is only changed when it exits 0');

function splitsIntoWords(v: string): boolean {
  try {
    return splitWords(v).length > 0;
  } catch {
    return false;
  }
}

/**
 * The validate command run on a temporary copy of the new content (beside the file, so relative
 * includes resolve the same): it must exit 0 or the task fails before the file is touched. The
 * content goes on stdin, never into the command line or its description.
 */
export function validateStep(validate: string, path: string, content: Buffer | string, ctx: ModuleContext): Step {
  const words = splitWords(validate).map((w) => w.split('%s').map(quote).join('"$t"'));
  const template = quote(posix.join(posix.dirname(path), `.${posix.basename(path)}.plumb-validate-XXXXXXXX`));
  const run = [`t=$(mktemp ${template}) || exit 1`, `trap 'rm -f "$t"' EXIT`, 'cat > "$t"', words.join(' ')].join('\n');
  return { kind: 'exec', command: run, stdin: content, describe: `validate ${ctx.redact(path)}: ${ctx.redact(validate)}` };
}

function describeAttrs(attrs: Attrs): string {
  return [attrs.mode, attrs.owner && `owner ${attrs.owner}`, attrs.group && `group ${attrs.group}`].filter(Boolean).join(' ');
}

/** A regular expression written for Ansible (Python's re): its named groups `(?P<n>…)` and `(?P=n)` in JavaScript's spelling. */
export function pythonRegExp(source: string): RegExp {
  return new RegExp(source.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'));
}

/** Regular expressions given as arguments must compile (a templated one once rendered). */
export function compiles(r: string): boolean {
  try {
    pythonRegExp(r);
    return true;
  } catch {
    return false;
  }
}

export const regexSchema = z.string().refine(compiles, { message: 'not a valid regular expression' });

/** Attribute changes of an existing file, each made by its own command. */
export function attrPlans(attrs: Array<{ change: Change; command: string }>, ctx: ModuleContext): Planned[] {
  return attrs.map((a) => ({ change: a.change, steps: [{ kind: 'exec', command: a.command, describe: ctx.redact(a.command) }] }));
}

/** Attribute changes the write step makes at once (it sets mode and owner on the new file). */
export function madeByWrite(attrs: Array<{ change: Change }>): Planned[] {
  return attrs.map((a) => ({ change: a.change, steps: [] }));
}

/**
 * The write of a file's new content (atomic: temp file and rename, by the transport), with the
 * attributes the task asks for or, for an existing file, the ones it has. Its description names
 * the size and attributes, never the content.
 */
export function writeStep(path: string, content: Buffer | string, wanted: Attrs, state: FileState, secret: boolean, ctx: ModuleContext): Step {
  const written = writeAttrs(wanted, state);
  const bytes = Buffer.isBuffer(content) ? content.length : Buffer.byteLength(content);
  const detail = [`${bytes} bytes`, secret ? 'secret' : '', describeAttrs(written)].filter(Boolean).join(', ');
  const defined = Object.fromEntries(Object.entries(written).filter(([, v]) => v !== undefined)) as Attrs;
  return { kind: 'write', path, content, ...defined, describe: `write ${ctx.redact(path)} (${ctx.redact(detail)})` };
}
