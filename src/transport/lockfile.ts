/**
 * A lock between processes that works on any POSIX file system without a
 * native module: `FILE.lock` created with O_EXCL (atomic create-or-fail),
 * holding who took it. Used for known_hosts, where several plumb runs may
 * record the same first-seen key at once.
 *
 * Synchronous on purpose: the critical sections it guards are a read and an
 * append (well under a millisecond), and the caller (ssh2's hostVerifier) is
 * synchronous. While waiting, the event loop is blocked in short sleeps.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { PlumbError } from '../errors.js';
import { readLimited } from '../local-file.js';

class LockError extends PlumbError {}

/** How long to wait for another run's lock by default. */
export const LOCK_WAIT_MS = 10_000;
/**
 * A lock this old is abandoned whoever holds it: the work done under it takes
 * milliseconds. Covers holders on another machine (shared home directories),
 * whose PIDs cannot be checked.
 */
const ABANDONED_AFTER_MS = 60_000;

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(pause, 0, 0, ms);

/** Run `fn` holding `lockPath`, waiting up to `waitMs` for another holder; LockError when it stays taken. */
export function withLockFile<T>(lockPath: string, waitMs: number, fn: () => T): T {
  const me: Holder = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex') };
  const text = JSON.stringify(me);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(lockPath, text)) break;
    if (breakIfAbandoned(lockPath)) continue;
    if (Date.now() >= deadline) {
      const holder = readHolder(lockPath);
      const who = holder ? ` (pid ${holder.pid} on ${holder.host})` : '';
      throw new LockError(`${lockPath} is held by another plumb run${who} for more than ${waitMs / 1000} s; if no plumb is running, remove ${lockPath}`);
    }
    sleep(5 + Math.floor(Math.random() * 10));
  }
  try {
    return fn();
  } finally {
    removeIfStill(lockPath, text);
  }
}

function tryCreate(lockPath: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') return false;
    throw new LockError(`cannot create lock file ${lockPath}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readText(lockPath: string): string | undefined {
  try {
    return readLimited(lockPath, { limit: 4096, what: 'lock file' }).toString('utf8');
  } catch {
    return undefined;
  }
}

function parseHolder(text: string | undefined): Holder | undefined {
  try {
    const h = JSON.parse(text ?? '') as Holder;
    return Number.isInteger(h?.pid) && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

const readHolder = (lockPath: string) => parseHolder(readText(lockPath));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove a lock whose holder died (same machine, PID gone) or that is too old to be in use. */
function breakIfAbandoned(lockPath: string): boolean {
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return true; // released meanwhile: try again at once
  }
  const text = readText(lockPath);
  const holder = parseHolder(text);
  // No readable holder yet: its creator is between create and write, unless it is old.
  const dead = holder !== undefined && holder.host === hostname() && !alive(holder.pid);
  if (!dead && ageMs < ABANDONED_AFTER_MS) return false;
  // Only the lock we judged: if it was replaced meanwhile, its new holder keeps it.
  return removeIfStill(lockPath, text);
}

/** Unlink `lockPath` when it still holds `text` (undefined: it was unreadable or empty, and still is). */
function removeIfStill(lockPath: string, text: string | undefined): boolean {
  if (readText(lockPath) !== text) return false;
  try {
    unlinkSync(lockPath);
    return true;
  } catch {
    return false;
  }
}
