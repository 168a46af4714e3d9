/**
 * Issue 13: facts a fact module (setup, service_facts, package_facts) sets
 * after an earlier task changed the host. The plan read them before that
 * change, so a task that reads them "may change", with the reason; apply
 * reads the module again when its turn comes (it follows a change) and gives
 * the tasks after it the new values.
 */
import { withFacts, type HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import type { HostFacts } from '../facts/host-facts.js';
import type { ModuleContext } from '../modules/types.js';
import { taskFactNames } from './fact-usage.js';
import { prepareTask, TAGS_SKIP, type PreparedTask } from './prepare.js';
import type { TaskFacts } from './probe.js';
import type { TaskPlan } from './types.js';

export interface FactRefresh {
  /**
   * The facts after fact module `t` ran at apply with `values`: a new scope and context when they
   * differ from the ones the plan used for the tasks after it, else undefined.
   */
  after(t: PreparedTask, values: TaskFacts): { scope: HostScope; ctx: ModuleContext } | undefined;
}

/**
 * `scope` is the host's scope without facts, `gathered` the play's facts, `planned` the facts the
 * plan used after each fact module (by task index).
 */
export function factRefresh(scope: HostScope, gathered: HostFacts, planned: Map<number, HostFacts>, contextOf: (s: HostScope) => ModuleContext): FactRefresh {
  let current = gathered;
  return {
    after(t, values) {
      current = { ...current, ...t.module.setsFacts!(t.args, values as never) };
      if (JSON.stringify(current) === JSON.stringify(planned.get(t.index))) return undefined;
      const next = withFacts(scope, current);
      return { scope: next, ctx: contextOf(next) };
    },
  };
}

export const refreshFacts = {
  /** A task after a fact module whose values changed: prepared again with them (a task --tags left out stays out). */
  prepare(t: PreparedTask, scope: HostScope): PreparedTask {
    return t.skip === TAGS_SKIP ? t : prepareTask(t.task, t.index, scope);
  },
};

/** A task's fact values from its plan (every one known: a fact module plans only when they are). */
export function valuesOfPlan(plan: TaskPlan | undefined): TaskFacts | undefined {
  if (!plan?.probed?.known) return undefined;
  const view = plan.probed.state as Record<string, unknown>;
  return Object.fromEntries(Object.entries(view).flatMap(([name, state]) => (name === 'secretFields' ? [] : [[name, { known: true as const, state }]])));
}

/** Whether `task` reads any of `names` (facts without the prefix), found as fact-usage finds reads. */
function readsAny(task: Task, play: Play, names: ReadonlySet<string>): boolean {
  return taskFactNames(task, play).some((n) => n === 'ansible_facts' || names.has(n.replace(/^ansible_/, '')));
}

/**
 * Plan side: a task that reads facts a fact module sets after a change "may change" — the plan's
 * values are from before that change. `setNames` gives the facts a planned fact module sets.
 */
export function markStaleFactReaders(play: Play, tasks: TaskPlan[], prepared: PreparedTask[], setNames: (t: PreparedTask) => string[] | undefined): void {
  let firstChange: TaskPlan | undefined;
  const stale = new Map<string, string>(); // fact name → the fact module that reads it again
  for (const plan of tasks) {
    const t = prepared[plan.index];
    if (stale.size && plan.outcome !== 'skipped' && plan.outcome !== 'error' && !t.module.setsFacts) {
      const names = new Set(stale.keys());
      if (readsAny(t.task, play, names)) {
        const by = [...new Set([...stale.values()])].join('", "');
        const why = `reads facts that "${by}" reads again after "${firstChange!.task.name}" changes the host`;
        const reason = plan.outcome === 'may-change' && plan.reason ? `${plan.reason}; ${why}` : why;
        Object.assign(plan, { outcome: 'may-change', changes: [], steps: undefined, reason });
      }
    }
    if (t.module.setsFacts && !t.skip && firstChange) for (const n of setNames(t) ?? []) stale.set(n, t.task.name);
    if (!firstChange && (plan.outcome === 'change' || plan.outcome === 'may-change')) firstChange = plan;
  }
}
