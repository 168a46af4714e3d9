/**
 * The planner: one host, one play. Every selected task's probe goes to the
 * host in one batched script; diffs are computed locally and purely. The
 * result is a value (HostPlan) that can be printed, saved and applied.
 */
import type { HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import { evaluate } from '../modules/contract.js';
import { taskContext } from './context.js';
import type { ModuleContext } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import { parsePending, readPendingSnippet, type PendingKeys } from './pending.js';
import { hasModule, prepareTask, type PreparedTask } from './prepare.js';
import { probeTasks, type Become, type TaskFacts } from './probe.js';
import { guardChanges } from './secrecy.js';
import type { HandlerPlan, TaskPlan } from './types.js';
import type { FactUsage } from '../config/fact-usage.js';
import { prepareWithFacts, type Gathered } from './gather.js';
import { markStaleFactReaders, settleFactModules, type FactRefresh } from './fact-refresh.js';

export interface PlanInput {
  transport: Transport;
  play: Play;
  scope: HostScope;
  ctx: ModuleContext;
  tags?: string[];
  skipTags?: string[];
  timeoutMs?: number;
  /** Where this play's owed handlers are kept on the host. */
  pending: PendingKeys;
  /** Issue 13 facts: what the play reads of facts, and how to make a module context for a scope with facts. */
  facts?: { usage: FactUsage; contextOf: (scope: HostScope) => ModuleContext };
}

export interface PlannedTasks {
  prepared: PreparedTask[];
  tasks: TaskPlan[];
  handlers: HandlerPlan[];
  pendingHandlers: string[];
  /** Issue 13 facts: the scope and context with the host's facts, when the play read any (apply uses them). */
  scope?: HostScope;
  ctx?: ModuleContext;
  /** Issue 13 facts: how apply gives later tasks the values of a fact module read again. */
  refresh?: FactRefresh;
}

export function becomeOf(play: Play, task: Pick<Task, 'become' | 'become_user'>): Become {
  const become = task.become ?? play.become;
  if (!become) return false;
  return task.become_user ?? play.become_user ?? true;
}

/** The play's own setting, for what is not a task (the record of owed handlers). */
export function playBecome(play: Play): Become {
  return becomeOf(play, {});
}

export function taskPlanFrom(t: PreparedTask, facts: TaskFacts | undefined, ctx: ModuleContext): TaskPlan {
  const base = { index: t.index, task: t.task, args: t.args, secretValues: t.secretValues };
  if (t.skip) return { ...base, outcome: 'skipped', changes: [], reason: t.skip };
  if (!facts) return { ...base, outcome: 'may-change', changes: [], reason: 'not probed' };
  const { probed, changes, steps, error } = evaluate(t.module, t.args, facts, ctx);
  if (!probed.known) return { ...base, outcome: 'may-change', changes: [], reason: probed.reason, probed };
  if (error !== undefined) return { ...base, outcome: 'error', changes: [], reason: error, probed };
  const guarded = guardChanges(changes, ctx);
  return { ...base, outcome: guarded.length ? 'change' : 'ok', changes: guarded, probed, steps };
}

export function planHandlers(play: Play, tasks: TaskPlan[], pending: string[]): HandlerPlan[] {
  const plans: HandlerPlan[] = [];
  for (const handler of play.handlers) {
    const will = tasks.filter((t) => t.outcome === 'change' && t.task.notify.includes(handler.name)).map((t) => t.task.name);
    const may = tasks.filter((t) => t.outcome === 'may-change' && t.task.notify.includes(handler.name)).map((t) => t.task.name);
    const owed = pending.includes(handler.name);
    if (will.length || owed) {
      plans.push({
        name: handler.name,
        runs: 'will',
        because: [...will.map((n) => `${n} changes`), ...(owed ? ['an earlier run changed what it depends on and stopped before running it'] : [])],
      });
    } else if (may.length) {
      plans.push({ name: handler.name, runs: 'may', because: may.map((n) => `${n} may change`) });
    }
  }
  return plans;
}

export async function planTasks(input: PlanInput): Promise<PlannedTasks> {
  const { transport, play } = input;
  let { scope, ctx } = input;
  const filter = { tags: input.tags, skipTags: input.skipTags };
  const extras = [{ snippet: readPendingSnippet(input.pending), become: playBecome(play) }];
  let probed: { prepared: PreparedTask[]; facts: Map<number, TaskFacts>; extra: string[] };
  let gathered: Gathered | undefined;
  if (input.facts && (input.facts.usage.gather || input.facts.usage.factModules)) {
    // Issue 13 facts: gathered in the same round trip as the probes that do not depend on them.
    const usage = input.facts.usage;
    gathered = await prepareWithFacts({
      transport,
      play,
      scope,
      usage,
      filter,
      becomeOf: (t) => becomeOf(play, t.task),
      playBecome: playBecome(play),
      extras,
      contextOf: input.facts.contextOf,
      timeoutMs: input.timeoutMs,
    });
    ({ scope, ctx } = gathered);
    probed = gathered;
    // Handlers with the facts, still before anything changes on the host.
    play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
  } else {
    const prepared = play.tasks.map((task, i) => prepareTask(task, i, scope, filter));
    // Handlers too, before the first probe: an argument that fails its check stops the host before
    // anything runs on it, not after the tasks that notify the handler have changed it.
    // (An Ansible module plumb lacks fails a handler only if it is notified.)
    play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
    probed = { prepared, ...(await probeTasks(transport, prepared, ctx, (t) => becomeOf(play, t.task), extras, input.timeoutMs)) };
  }
  const { prepared, facts, extra } = probed;
  const pending = parsePending(extra[0] ?? '').filter((name) => play.handlers.some((h) => h.name === name));
  const tasks = prepared.map((t) => taskPlanFrom(t, facts.get(t.index), taskContext(ctx, t.task)));
  // Say why an unknown state may settle: apply reads it again after the earlier change.
  const firstChange = tasks.find((t) => t.outcome === 'change');
  for (const t of tasks) {
    if (t.outcome === 'may-change' && firstChange && t.index > firstChange.index) {
      t.reason = `${t.reason}; read again after "${firstChange.task.name}" changes the host`;
    }
  }
  // Issue 13: facts a fact module reads after a change are read again at apply.
  if (gathered) {
    markStaleFactReaders(play, tasks, prepared, (t) => gathered.setNames.get(t.index));
    settleFactModules(tasks, prepared);
  }
  return {
    prepared,
    tasks,
    handlers: planHandlers(play, tasks, pending),
    pendingHandlers: pending,
    ...(scope !== input.scope ? { scope, ctx } : {}),
    ...(gathered ? { refresh: gathered.refresh } : {}),
  };
}
