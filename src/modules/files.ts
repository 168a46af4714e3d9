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
import { modeSchema, ownerSchema } from './common.js';
import type { Change, ModuleContext, Planned, Step } from './types.js';

export { asText, type FileState, fileFact, sha256 } from '../facts/file.js';

export const fileAttrs = {
  mode: modeSchema.optional().describe('octal mode as a quoted string, e.g. "0644"'),
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
export function attrChanges(path: string, wanted: Attrs, state: FileState): Array<{ change: Change; command: string }> {
  const out: Array<{ change: Change; command: string }> = [];
  const exists = state.type !== 'absent';
  if (wanted.mode !== undefined && (!exists || normalizeMode(wanted.mode) !== state.mode)) {
    const after = normalizeMode(wanted.mode);
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
    mode: wanted.mode !== undefined ? normalizeMode(wanted.mode) : keep ? state.mode : undefined,
    // Numeric ids: a file owned by a uid without a name still keeps its owner.
    owner: wanted.owner ?? (keep ? String(state.uid) : undefined),
    group: wanted.group ?? (keep ? String(state.gid) : undefined),
  };
}

/** `cp -P -p` of the current file to PATH.<timestamp>~ (Ansible's backup naming), made on the host at apply time. */
export function backupCommand(path: string): string {
  // -P: a symlink is backed up as the link, never as a copy of what it points to.
  return `${command('cp', '-P', '-p', '--', path)} ${quote(path)}."$(date +%Y-%m-%d@%H:%M:%S)~"`;
}

function describeAttrs(attrs: Attrs): string {
  return [attrs.mode, attrs.owner && `owner ${attrs.owner}`, attrs.group && `group ${attrs.group}`].filter(Boolean).join(' ');
}

/** Regular expressions given as arguments must compile (a templated one once rendered). */
export function compiles(r: string): boolean {
  try {
    new RegExp(r);
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
