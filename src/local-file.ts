/**
 * The one way plumb reads a file on the control machine. A path a user gives
 * can name a FIFO (open blocks until a writer comes), /dev/zero (endless), a
 * terminal, or a /proc file whose stat size is 0; readFileSync would hang or
 * read until memory runs out. So: open without blocking, refuse anything but
 * a regular file, and stop after `limit` + 1 bytes actually read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { PlumbError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Per kind of file, the most plumb reads. Hand-written files get room to
 * spare; anything larger is generated or the wrong file.
 */
export const READ_LIMITS = {
  /** Playbook, inventory, vars files, secrets, -e @file: the YAML parser needs ~0.6 s per MiB. */
  yaml: 512 * KiB,
  /** ~100k host keys. */
  knownHosts: 16 * MiB,
  sshConfig: 1 * MiB,
  /** A 16384-bit RSA key is ~13 KiB. */
  identity: 1 * MiB,
  /** copy/template `src` on the controller: held in memory, hashed and diffed. */
  localSource: 32 * MiB,
  /** An Ansible vault password file, or what a password script prints. */
  vaultPassword: 64 * KiB,
  /** A saved plan (`plan -o`), including diffs for every host. */
  savedPlan: 64 * MiB,
} as const;

export class LocalFileError extends PlumbError {
  constructor(
    readonly path: string,
    /** Why, without the path: "no such file", "it is a named pipe (FIFO), not a regular file". */
    readonly reason: string,
    readonly code: 'ENOENT' | 'EACCES' | 'NOTFILE' | 'TOOLARGE' | 'OTHER',
    what: string,
    /** For TOOLARGE: the size stat reported, when it already showed the file too large. */
    readonly size?: number,
  ) {
    super(`cannot read ${what} ${path}: ${reason}`);
    this.name = 'LocalFileError';
  }
}

export interface ReadOptions {
  limit: number;
  /** What the file is to the user ("inventory", "known_hosts file"), for the message. */
  what: string;
}

/** Read a regular file of at most `limit` bytes; anything else is a LocalFileError naming the file. */
export function readLimited(path: string, { limit, what }: ReadOptions): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    // O_NOCTTY: a terminal path must not become our controlling terminal.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LocalFileError(path, describeOpenError(e), e.code === 'ENOENT' || e.code === 'EACCES' ? e.code : 'OTHER', what);
  }
  try {
    const st = fstatSync(fd);
    // `-F /dev/null`, `UserKnownHostsFile=/dev/null`: the usual way to say "none"; it is always empty.
    if (isDevNull(st)) return Buffer.alloc(0);
    if (!st.isFile()) throw new LocalFileError(path, `it is ${kindOf(st)}, not a regular file`, 'NOTFILE', what);
    if (st.size > limit) throw new LocalFileError(path, `it is ${formatBytes(st.size)}, larger than ${formatBytes(limit)}`, 'TOOLARGE', what, st.size);
    return readUpTo(fd, limit, path, what);
  } finally {
    closeSync(fd);
  }
}

/** Read until EOF, failing once more than `limit` bytes arrived (stat sizes can lie or change). */
function readUpTo(fd: number, limit: number, path: string, what: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(limit + 1 - total, MiB));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    total += n;
    if (total > limit) throw new LocalFileError(path, `it is larger than ${formatBytes(limit)}`, 'TOOLARGE', what);
  }
  return Buffer.concat(chunks, total);
}

let devNullRdev: number | undefined;
function isDevNull(st: Stats): boolean {
  if (!st.isCharacterDevice()) return false;
  devNullRdev ??= statSync('/dev/null').rdev;
  return st.rdev === devNullRdev;
}

/** Whether `path` is the null device (so there is nothing to lock or record). */
export function isDevNullPath(path: string): boolean {
  try {
    return isDevNull(statSync(path));
  } catch {
    return false;
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device (like /dev/zero or a terminal)';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function describeOpenError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory, not a regular file';
    case 'ENXIO':
      return 'it is a socket or a device with nothing behind it, not a regular file';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return e.message;
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${Math.ceil(bytes / KiB)} KiB`;
  return `${bytes} bytes`;
}
