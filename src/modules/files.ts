/**
 * What copy, template, file and lineinfile share: one probe snippet that
 * describes a path (type, mode, owner, group, sha256 and optionally the
 * content), its parser, and the attribute comparison that turns mode, owner
 * and group into changes and chmod/chown commands.
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { command, quote } from '../shell.js';
import { modeSchema, ownerSchema } from './common.js';
import type { Change, ModuleContext, Probed, SecretMarked } from './types.js';

export const fileAttrs = {
  mode: modeSchema.optional(),
  owner: ownerSchema.optional(),
  group: ownerSchema.optional(),
};

/** Remote content up to this size is fetched (base64) so a plan can show a unified diff. */
export const DIFF_CONTENT_LIMIT = 64 * 1024;

export interface FileState extends SecretMarked {
  /** `file` and `directory` follow a symlink; `other` is a device, socket, fifo or a dangling link. */
  type: 'absent' | 'file' | 'directory' | 'other';
  /** The path itself is a symlink (writing the file replaces the link with a regular file). */
  link?: boolean;
  /** Octal, four digits: "0644". */
  mode?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  size?: number;
  /** sha256 of the remote content (regular files only). */
  sha256?: string;
  /** Remote content as text, present only when it was fetched and is UTF-8 text without NUL. */
  content?: string;
}

export interface FileProbeOptions {
  /** Hash regular files (copy, lineinfile); file only manages attributes and skips reading content. */
  hash: boolean;
  /** Fetch the content (base64) of regular files up to this many bytes; 0 = never. */
  fetchLimit?: number;
}

/**
 * Prints, one per line: `type T`, `link 1` (if a symlink), `stat MODE UID GID SIZE OWNER GROUP`,
 * `sha256 HEX` (with `hash`) and `content BASE64` (only when `fetchLimit` > 0 and the file is no larger).
 */
export function fileProbe(path: string, { hash, fetchLimit = 0 }: FileProbeOptions): string {
  const p = quote(path);
  const lines = [
    `p=${p}`,
    `if [ -d "$p" ]; then t=directory; elif [ -f "$p" ]; then t=file; elif [ -e "$p" ] || [ -L "$p" ]; then t=other; else t=absent; fi`,
    'echo "type $t"',
    'if [ -L "$p" ]; then echo "link 1"; fi',
    `if [ "$t" != absent ]; then stat -L -c 'stat %a %u %g %s %U %G' -- "$p" 2>/dev/null; fi`,
  ];
  if (!hash) return lines.join('\n');
  lines.push(
    'if [ "$t" = file ]; then',
    '  h=$(sha256sum < "$p" 2>/dev/null) && echo "sha256 ${h%% *}"',
  );
  if (fetchLimit > 0) {
    lines.push(
      '  s=$(stat -L -c %s -- "$p" 2>/dev/null)',
      `  if [ -r "$p" ] && [ "\${s:-0}" -le ${fetchLimit} ]; then printf 'content '; base64 -w 0 < "$p"; echo; fi`,
    );
  }
  lines.push('fi');
  return lines.join('\n');
}

/** Parse fileProbe output. Unknown when the file exists but could not be stat'ed or (with `hash`) read. */
export function parseFileProbe(path: string, stdout: string, { hash }: FileProbeOptions): Probed<FileState> {
  const state: FileState = { type: 'absent' };
  let sawType = false;
  let contentB64: string | undefined;
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (key === 'type') {
      sawType = true;
      const t = rest[0];
      if (t !== 'absent' && t !== 'file' && t !== 'directory' && t !== 'other') return unknownOutput(path, line);
      state.type = t;
    } else if (key === 'link') {
      state.link = true;
    } else if (key === 'stat' && rest.length >= 6) {
      const [mode, uid, gid, size, owner, group] = rest;
      state.mode = normalizeMode(mode);
      state.uid = Number(uid);
      state.gid = Number(gid);
      state.size = Number(size);
      state.owner = owner;
      state.group = group;
    } else if (key === 'sha256') {
      state.sha256 = rest[0];
    } else if (key === 'content') {
      contentB64 = rest.join('');
    }
  }
  if (!sawType) return unknownOutput(path, stdout);
  if (state.type !== 'absent' && state.mode === undefined) {
    return { known: false, reason: `cannot stat ${path} (permission denied?)` };
  }
  if (hash && state.type === 'file' && state.sha256 === undefined) {
    return { known: false, reason: `cannot read ${path} (permission denied?)` };
  }
  if (contentB64 !== undefined) {
    const bytes = Buffer.from(contentB64, 'base64');
    // A file that changed between sha256sum and base64 is not trusted for a diff.
    if (sha256(bytes) === state.sha256) {
      const text = asText(bytes);
      if (text !== undefined) state.content = text;
    }
  }
  return { known: true, state };
}

function unknownOutput(path: string, got: string): Probed<FileState> {
  return { known: false, reason: `unexpected probe output for ${path}: ${JSON.stringify(got.slice(0, 80))}` };
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** UTF-8 text without NUL bytes, or undefined for binary. */
export function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/** "644" → "0644", "4755" → "4755", "01777" → "1777": one spelling per mode so they compare. */
export function normalizeMode(mode: string): string {
  return parseInt(mode, 8).toString(8).padStart(4, '0');
}

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
      command: command('chmod', after, '--', path),
    });
  }
  if (wanted.owner !== undefined && (!exists || !ownerMatches(wanted.owner, state.owner, state.uid))) {
    out.push({
      change: { summary: exists ? `owner ${state.owner} → ${wanted.owner}` : `owner ${wanted.owner}`, target: `${path} owner`, before: exists ? state.owner : null, after: wanted.owner },
      command: command('chown', '--', wanted.owner, path),
    });
  }
  if (wanted.group !== undefined && (!exists || !ownerMatches(wanted.group, state.group, state.gid))) {
    out.push({
      change: { summary: exists ? `group ${state.group} → ${wanted.group}` : `group ${wanted.group}`, target: `${path} group`, before: exists ? state.group : null, after: wanted.group },
      command: command('chgrp', '--', wanted.group, path),
    });
  }
  return out;
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

/** `cp -p` of the current file to PATH.<timestamp>~ (Ansible's backup naming), made on the host at apply time. */
export function backupCommand(path: string): string {
  return `${command('cp', '-p', '--', path)} ${quote(path)}."$(date +%Y-%m-%d@%H:%M:%S)~"`;
}

export function describeAttrs(attrs: Attrs): string {
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
