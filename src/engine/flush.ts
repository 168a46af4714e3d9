/**
 * Where handlers run, as Ansible runs them: notified handlers flush after pre_tasks, after roles
 * and tasks, after post_tasks, and at each `meta: flush_handlers`; a handler notified again after
 * a flush runs again at the next one. `meta: end_host` ends the host without running the handlers
 * still notified. The plan shows each handler at the flush point where it runs.
 */
import type { Play } from '../config/model.js';
import { blockLabel } from '../config/blocks.js';
import { rescueOf, waitsOnly } from './blocks.js';
import type { HandlerPlan, TaskPlan } from './types.js';

/** A task that plans to change but runs only if its block fails counts as "may". */
function contribution(t: TaskPlan): 'will' | 'may' | undefined {
  // Issue 15: a wait changes nothing, so it notifies nothing.
  if (waitsOnly(t)) return undefined;
  if (t.outcome === 'change') return t.runsIf ? 'may' : 'will';
  if (t.outcome === 'may-change') return 'may';
  return undefined;
}

/** Whether the task is sure to run its meta action on this host (not skipped, not in a rescue). */
function metaRuns(t: TaskPlan, action: string): boolean {
  return t.task.meta === action && t.outcome !== 'skipped' && !rescueOf(t.task);
}

export function planHandlersAtFlushPoints(play: Play, tasks: TaskPlan[], pending: string[]): HandlerPlan[] {
  const points: Array<{ at: string; will: Map<string, string[]>; may: Map<string, string[]>; owed: boolean }> = [];
  let current = { will: new Map<string, string[]>(), may: new Map<string, string[]>(), owed: pending.length > 0 };
  const flush = (at: string) => {
    points.push({ at, ...current });
    current = { will: new Map(), may: new Map(), owed: false };
  };
  const add = (map: Map<string, string[]>, handler: string, why: string) => map.set(handler, [...(map.get(handler) ?? []), why]);
  let phase: string | undefined | null = null;
  let ended = false;
  for (const t of tasks) {
    const p = t.task.phase ?? 'tasks';
    if (phase !== null && p !== phase) flush(phase === 'pre_tasks' ? 'after pre_tasks' : 'after roles and tasks');
    phase = p;
    if (metaRuns(t, 'flush_handlers')) flush(`at "${t.task.name}"`);
    if (metaRuns(t, 'end_host') || metaRuns(t, 'end_play')) {
      ended = true;
      break;
    }
    const how = contribution(t);
    if (!how) continue;
    const rescue = rescueOf(t.task);
    const why =
      how === 'will' ? `${t.task.name} changes` : rescue && t.outcome === 'change' ? `${t.task.name} changes if ${blockLabel(rescue)} fails` : `${t.task.name} may change`;
    for (const h of t.task.notify) add(how === 'will' ? current.will : current.may, h, why);
  }
  if (!ended) flush(phase === 'pre_tasks' ? 'after pre_tasks' : phase === 'post_tasks' ? 'after post_tasks' : 'after roles and tasks');
  // One flush point (a play of tasks only): said as before, without where.
  const many = new Set(tasks.map((t) => t.task.phase ?? 'tasks')).size > 1 || tasks.some((t) => t.task.meta === 'flush_handlers');
  const plans: HandlerPlan[] = [];
  for (const point of points) {
    for (const handler of play.handlers) {
      const will = point.will.get(handler.name) ?? [];
      const owed = point.owed && pending.includes(handler.name);
      const at = many ? { at: point.at } : {};
      if (will.length || owed) {
        plans.push({ name: handler.name, runs: 'will', because: [...will, ...(owed ? ['an earlier run changed what it depends on and stopped before running it'] : [])], ...at });
      } else if (point.may.has(handler.name)) {
        plans.push({ name: handler.name, runs: 'may', because: point.may.get(handler.name)!, ...at });
      }
    }
  }
  return plans;
}
