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
  after(t: PreparedTask, reread: TaskFacts | undefined): { scope: HostScope; ctx: ModuleContext } | undefined;
}

/**
 * `scope` is the host's scope without facts, `gathered` the play's facts, `planned` the facts the
 * plan used after each fact module and `values` what each read (by task index).
 */
export function factRefresh(
  scope: HostScope,
  gathered: HostFacts,
  planned: Map<number, HostFacts>,
  values: ReadonlyMap<number, TaskFacts>,
  contextOf: (s: HostScope) => ModuleContext,
): FactRefresh {
  let current = gathered;
  return {
    after(t, reread) {
      const read = reread ?? values.get(t.index);
      if (!read) return undefined;
      current = { ...current, ...t.module.setsFacts!(t.args, read as never) };
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

/**
 * What a saved plan fingerprints of a fact module's task: nothing of what it read. Those values move
 * by themselves (free memory, the ssh client's port); a task that uses them has them in its own
 * arguments (desired state) or `when` (skipped or not), which a saved plan does compare.
 */
export function settleFactModules(tasks: TaskPlan[], prepared: PreparedTask[]): void {
  for (const plan of tasks) if (prepared[plan.index].module.setsFacts && plan.outcome === 'ok') plan.probed = { known: true, state: { facts: 'set for the tasks after it' } };
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
