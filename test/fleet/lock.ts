/**
 * A cross-process lock as a directory (mkdir is atomic) holding the owner's
 * PID. A lock whose owner died is taken over, so a crashed builder never
 * blocks the next one. Used for the image cache and the subnet registry.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { sleep } from './run.js';

/** true/false for a lock with a pid file; undefined while it has none yet. */
function ownerAlive(dir: string): boolean | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(`${dir}/pid`, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
  writeFileSync(`${dir}/pid`, String(process.pid));
  return true;
}

export async function withLock<T>(dir: string, what: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  let emptySince = 0;
  while (!tryTake(dir)) {
    const alive = ownerAlive(dir);
    // No pid file for 5 s means the creator died between mkdir and writing it.
    if (alive === undefined && !emptySince) emptySince = Date.now();
    if (alive === false || (alive === undefined && Date.now() - emptySince > 5000)) {
      rmSync(dir, { recursive: true, force: true });
      emptySince = 0;
      continue;
    }
    if (alive) emptySince = 0;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the ${what} lock ${dir}`);
    if (!announced) {
      process.stderr.write(`fleet: waiting for another process holding the ${what} lock (${dir})\n`);
      announced = true;
    }
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
