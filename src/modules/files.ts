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
  /**
   * `link`: the path itself is a symlink, dangling or not. Nothing behind a link is ever
   * stat'ed, hashed or read. `other` is a device, socket or fifo.
   */
  type: 'absent' | 'file' | 'directory' | 'link' | 'other';
  /** Where a symlink points (readlink), verbatim: host text, escaped only where it is printed. */
  target?: string;
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

/** sha256 of no bytes: what a read that failed half-way through a pipe hashes to. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Prints, one per line: `type T`; for a symlink only `target BASE64` (readlink, encoded so
 * a newline in it cannot forge a line); otherwise `stat MODE UID GID SIZE OWNER GROUP`,
 * `sha256 HEX` (with `hash`) and `content BASE64` (only when `fetchLimit` > 0 and the file is
 * no larger).
 *
 * Symlinks are never followed: a link an unprivileged user plants (dest -> /etc/shadow) must
 * not put root-only bytes into a plan. The link test comes first, stat is not -L, and every
 * read is `dd iflag=nofollow`, which refuses to open a link even if one is swapped in after
 * the test; such a race reads nothing, and parseFileProbe notices the short read.
 */
export function fileProbe(path: string, { hash, fetchLimit = 0 }: FileProbeOptions): string {
  const p = quote(path);
  const read = 'dd if="$p" iflag=nofollow bs=64K status=none';
  const lines = [
    `p=${p}`,
    'if [ -L "$p" ]; then',
    "  echo 'type link'",
    "  printf 'target '; readlink -n -- \"$p\" | base64 -w 0; echo",
    'else',
    '  if [ -d "$p" ]; then t=directory; elif [ -f "$p" ]; then t=file; elif [ -e "$p" ]; then t=other; else t=absent; fi',
    '  echo "type $t"',
    `  if [ "$t" != absent ]; then stat -c 'stat %a %u %g %s %U %G' -- "$p" 2>/dev/null; fi`,
  ];
  if (hash) {
    // count=0 opens without reading: it fails on a link or an unreadable file, so no hash is printed then.
    lines.push(
      `  if [ "$t" = file ] && ${read} count=0 2>/dev/null; then`,
      `    h=$(${read} 2>/dev/null | sha256sum) && echo "sha256 \${h%% *}"`,
    );
    if (fetchLimit > 0) {
      lines.push(
        '    s=$(stat -c %s -- "$p" 2>/dev/null)',
        `    if [ -r "$p" ] && [ "\${s:-0}" -le ${fetchLimit} ]; then printf 'content '; ${read} 2>/dev/null | base64 -w 0; echo; fi`,
      );
    }
    lines.push('  fi');
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
      if (t !== 'absent' && t !== 'file' && t !== 'directory' && t !== 'link' && t !== 'other') return unknownOutput(path, line);
      state.type = t;
    } else if (key === 'target') {
      state.target = Buffer.from(rest.join(''), 'base64').toString('utf8');
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
  if (state.type === 'link') {
    // Whatever else the output says describes the link's target, which is not ours to read.
    if (state.target === undefined) return { known: false, reason: `cannot read the symlink ${path}` };
    return { known: true, state: { type: 'link', target: state.target } };
  }
  if (state.type !== 'absent' && state.mode === undefined) {
    return { known: false, reason: `cannot stat ${path} (permission denied?)` };
  }
  if (hash && state.type === 'file' && state.sha256 === undefined) {
    return { known: false, reason: `cannot read ${path} (permission denied?)` };
  }
  const changed = { known: false as const, reason: `${path} changed while it was read; plan again` };
  // A no-follow read that failed mid-probe (the file was swapped for a link) hashes to nothing.
  if (state.type === 'file' && state.sha256 === EMPTY_SHA256 && state.size !== 0) return changed;
  if (contentB64 !== undefined) {
    const bytes = Buffer.from(contentB64, 'base64');
    if (bytes.length !== state.size) return changed;
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
      command: `${refuseLink(path)}; ${command('chmod', after, '--', path)}`,
    });
  }
  if (wanted.owner !== undefined && (!exists || !ownerMatches(wanted.owner, state.owner, state.uid))) {
    out.push({
      change: { summary: exists ? `owner ${state.owner} → ${wanted.owner}` : `owner ${wanted.owner}`, target: `${path} owner`, before: exists ? state.owner : null, after: wanted.owner },
      command: command('chown', '-h', '--', wanted.owner, path),
    });
  }
  if (wanted.group !== undefined && (!exists || !ownerMatches(wanted.group, state.group, state.gid))) {
    out.push({
      change: { summary: exists ? `group ${state.group} → ${wanted.group}` : `group ${wanted.group}`, target: `${path} group`, before: exists ? state.group : null, after: wanted.group },
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
