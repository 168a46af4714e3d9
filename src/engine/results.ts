/**
 * What `register` stores, in Ansible's shape: `changed`, `failed`, `skipped`,
 * and for command/shell `rc`, `stdout`, `stderr`, `stdout_lines`,
 * `stderr_lines`, `cmd`, `msg`; a loop's result has `results`, one per item.
 * And the verdict of `changed_when` / `failed_when` / `until` on a result,
 * evaluated with the result bound to the registered name, as Ansible does.
 */
import { withValues, type HostScope } from '../config/hostvars.js';
import type { Task } from '../config/model.js';

export type Registered = Record<string, unknown> & { changed: boolean; failed: boolean };

/** Bytes of a read-only command's stdout (and stderr) kept at plan time: its output is untrusted and unbounded. */
export const READ_OUTPUT_LIMIT = 64 * 1024;

/** Ansible strips trailing newlines from a command's output (strip_empty_ends). */
const stripEnds = (text: string) => text.replace(/(\r?\n)+$/, '');

export function commandResult(out: { code: number | null; stdout: string; stderr: string }, cmd: string): Registered {
  const stdout = stripEnds(out.stdout);
  const stderr = stripEnds(out.stderr);
  const rc = out.code ?? -1;
  return {
    changed: true,
    failed: rc !== 0,
    rc,
    cmd,
    stdout,
    stderr,
    stdout_lines: stdout === '' ? [] : stdout.split(/\r?\n/),
    stderr_lines: stderr === '' ? [] : stderr.split(/\r?\n/),
    msg: rc === 0 ? '' : 'non-zero return code',
  };
}

export function skippedResult(when: string | undefined): Registered {
  return { changed: false, failed: false, skipped: true, skip_reason: 'Conditional result was False', ...(when ? { false_condition: when } : {}) };
}

export const okResult = (changed: boolean): Registered => ({ changed, failed: false });

/** A loop's registered value: Ansible's summary over the items, each with its item. */
export function loopResult(items: Array<{ result: Registered; item: unknown; loopVar: string }>): Registered {
  const results = items.map(({ result, item, loopVar }) => ({ ...result, item, [loopVar]: item, ansible_loop_var: loopVar }));
  const all = (k: string) => results.length > 0 && results.every((r) => r[k] === true);
  return {
    changed: results.some((r) => r.changed === true),
    failed: results.some((r) => r.failed === true),
    ...(all('skipped') || results.length === 0 ? { skipped: true } : {}),
    msg: results.length === 0 ? 'No items in the list' : 'All items completed',
    results,
  };
}

/** The scope conditions on a result see: the task's own, with the result under its `register` name. */
function resultScope(scope: HostScope, task: Task, result: Registered): HostScope {
  return task.register ? withValues(scope, { [task.register]: result }) : scope;
}

/**
 * `changed_when` and `failed_when` on a result (after a module ran, or when plan ran a
 * read-only command). Without failed_when a result fails as it came; without changed_when
 * it changes as it came.
 */
export function judge(task: Task, scope: HostScope, result: Registered): Registered {
  const s = resultScope(scope, task, result);
  const changed = task.changed_when === undefined ? result.changed : s.condition(task.changed_when, task.pos);
  const failed = task.failed_when === undefined ? result.failed : s.condition(task.failed_when, task.pos);
  const judged: Registered = { ...result, changed, failed };
  if (task.failed_when !== undefined) judged.failed_when_result = failed;
  return judged;
}

export function untilHolds(task: Task, scope: HostScope, result: Registered): boolean {
  return task.until === undefined || resultScope(scope, task, result).condition(task.until, task.pos);
}

/** Whether the author marked a command/shell as only reading the host, so plan may run it. */
export function readOnly(task: Task): boolean {
  if (task.module !== 'command' && task.module !== 'shell') return false;
  const args = task.args as Record<string, unknown> | string;
  // A guarded command is decided by its guards, planned as today.
  if (typeof args === 'object' && args !== null && ['creates', 'removes', 'unless'].some((k) => k in args)) return false;
  return task.changed_when === false || task.changed_when === 'false' || task.check_mode === false;
}
