/**
 * The file fact: what a path is (type, mode, owner, group, size), optionally
 * its sha256 and its content. Symlinks are never followed.
 */
import { createHash } from 'node:crypto';
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, type Probed } from './types.js';

export interface FileState {
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
  /** The path was a symlink and this is what it resolves to; everything else describes that path (FileProbeOptions.follow). */
  resolved?: string;
  /** The path read is DEST/NAME, because DEST is a directory (FileProbeOptions.inside). */
  inside?: boolean;
  /** The umask of the host's shell ("0022"), for a path that is not a regular file or directory yet: a new file gets 0666 & ~umask, as Ansible gives it. */
  umask?: string;
}

export interface FileProbeOptions {
  /** Hash regular files (copy, lineinfile); file only manages attributes and skips reading content. */
  hash: boolean;
  /** Fetch the content (base64) of regular files up to this many bytes; 0 = never. */
  fetchLimit?: number;
  /** When the path is a directory (not a link to one), read PATH/NAME instead and say so (`inside`): copy's dest directory. */
  inside?: string;
  /** A symlink is resolved (readlink -f) and what it points to is read instead, named in `resolved` (lineinfile edits the target, as Ansible). */
  follow?: boolean;
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
export function fileProbe(path: string, { hash, fetchLimit = 0, inside, follow }: FileProbeOptions): string {
  const p = quote(path);
  const read = 'dd if="$p" iflag=nofollow bs=64K status=none';
  const lines = [
    `p=${p}`,
    ...(inside === undefined ? [] : [`if [ -d "$p" ] && [ ! -L "$p" ]; then p="$p"/${quote(inside)}; echo inside; fi`]),
    ...(follow ? [`if [ -L "$p" ] && r=$(readlink -f -- "$p") && [ -n "$r" ]; then printf 'resolved '; printf %s "$r" | base64 -w 0; echo; p=$r; fi`] : []),
    'if [ -L "$p" ]; then',
    "  echo 'type link'",
    '  printf \'target \'; readlink -n -- "$p" | base64 -w 0; echo',
    'else',
    '  if [ -d "$p" ]; then t=directory; elif [ -f "$p" ]; then t=file; elif [ -e "$p" ]; then t=other; else t=absent; fi',
    '  echo "type $t"',
    `  if [ "$t" != absent ]; then stat -c 'stat %a %u %g %s %U %G' -- "$p" 2>/dev/null; fi`,
  ];
  if (hash) {
    // count=0 opens without reading: it fails on a link or an unreadable file, so no hash is printed then.
    lines.push(`  if [ "$t" = file ] && ${read} count=0 2>/dev/null; then`, `    h=$(${read} 2>/dev/null | sha256sum) && echo "sha256 \${h%% *}"`);
    if (fetchLimit > 0) {
      lines.push(
        '    s=$(stat -c %s -- "$p" 2>/dev/null)',
        `    if [ -r "$p" ] && [ "\${s:-0}" -le ${fetchLimit} ]; then printf 'content '; ${read} 2>/dev/null | base64 -w 0; echo; fi`,
      );
    }
    lines.push('  fi');
  }
  lines.push('fi');
  // A file about to be created (or to replace a link) gets the mode the session's umask gives, as in Ansible.
  lines.push('case $(umask) in [0-7][0-7][0-7]|[0-7][0-7][0-7][0-7]) echo "umask $(umask)";; esac');
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
    } else if (key === 'resolved') {
      state.resolved = Buffer.from(rest.join(''), 'base64').toString('utf8');
    } else if (line === 'inside') {
      state.inside = true;
    } else if (key === 'umask' && /^[0-7]{3,4}$/.test(rest[0] ?? '')) {
      state.umask = normalizeMode(rest[0]);
    }
  }
  if (!sawType) return unknownOutput(path, stdout);
  if (state.type === 'link') {
    // Whatever else the output says describes the link's target, which is not ours to read.
    if (state.target === undefined) return { known: false, reason: `cannot read the symlink ${path}` };
    return { known: true, state: { type: 'link', target: state.target, ...(state.inside ? { inside: true } : {}), ...(state.umask ? { umask: state.umask } : {}) } };
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

/** Read `path` with these options; equal options on the same path are read once per host. */
export function fileFact(path: string, options: FileProbeOptions): FactRef<FileState> {
  // `inside` only when asked, so every other read of a path keeps its one fact key.
  return fact(file, {
    path,
    hash: options.hash,
    fetchLimit: options.fetchLimit ?? 0,
    ...(options.inside !== undefined ? { inside: options.inside } : {}),
    ...(options.follow ? { follow: true } : {}),
  });
}

export const file: Fact<{ path: string } & FileProbeOptions, FileState> = {
  name: 'file',
  summary: 'type, mode, owner and group of a path; with hash its sha256, with fetchLimit its content (never through a symlink)',
  probe: (p) => fileProbe(p.path, p),
  parse: (p, out) => parseFileProbe(p.path, out.stdout, p),
};
