/** What a play reads of facts on one host, with the text of the template files its tasks use. */
import { factUsage, taskReads, type FactUsage } from '../config/fact-usage.js';
import type { HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import { dirname, resolve } from 'node:path';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { findLocal } from '../config/template-files.js';

function templateText(task: Task, baseDir: string): string | undefined {
  const src = (task.args as { src?: unknown } | null)?.src;
  if (task.module !== 'template' || typeof src !== 'string' || src.includes('{{')) return undefined;
  try {
    const path = findLocal(src, task);
    return readLimited(resolve(baseDir, path), { limit: READ_LIMITS.localSource, what: 'template' }).toString('utf8');
  } catch {
    return undefined; // the task itself fails on the missing file, with its own message
  }
}

export function playFactUsage(play: Play, scope: HostScope): FactUsage {
  const baseDir = dirname(play.pos.file);
  return factUsage(play, scope.host.vars, (task) => templateText(task, baseDir));
}

/** Issue 13: the fact names one task of `play` reads (src/engine/fact-refresh.ts). */
export function taskFactNames(task: Task, play: Play): string[] {
  return taskReads(task, templateText(task, dirname(play.pos.file)));
}
