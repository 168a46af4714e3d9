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
import { withExpressions } from './expressions.js';
import { isDynamic, readSnippet, commandOf, walkPlan, factKey, readKey, type Knowledge } from './dynamic.js';
import type { HandlerPlan, TaskPlan } from './types.js';
import type { FactUsage } from '../config/fact-usage.js';
import { factSnippet, gatheredFacts, prepareWithFacts, type Gathered } from './gather.js';
import { withFacts } from '../config/hostvars.js';
import { standInFacts } from '../facts/host-facts.js';
import { planHandlersAtFlushPoints } from './flush.js';
import { markBlockPlans, probeDelegated } from './task-keywords.js';
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
  /** The control machine, for tasks with delegate_to: localhost (probed there, read-only). */
  local?: Transport;
  /** The host a run_once task runs on (the batch's first); absent: this one. */
  runOnceHost?: string;
}

export interface PlannedTasks {
  prepared: PreparedTask[];
  tasks: TaskPlan[];
  handlers: HandlerPlan[];
  pendingHandlers: string[];
  /** Issue 13 facts: the scope and context with the host's facts, when the play read any (apply uses them). */
  scope?: HostScope;
  ctx?: ModuleContext;
  /** What the probes answered, by instance (issue 13: apply reuses a read-only command's output while nothing changed). */
  knowledge?: Knowledge;
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

export function taskPlanFrom(t: PreparedTask, facts: TaskFacts | undefined, taskCtx: ModuleContext): TaskPlan {
  const base = { index: t.index, task: t.task, args: t.args, secretValues: t.secretValues };
  if (t.skip) return { ...base, outcome: 'skipped', changes: [], reason: t.skip };
  if (t.task.meta) return { ...base, outcome: 'ok', changes: [], reason: `meta: ${t.task.meta}` };
  if (!facts) return { ...base, outcome: 'may-change', changes: [], reason: 'not probed' };
  // Issue 15: the module's bare expressions were evaluated with the task's variables (prepare.ts).
  const ctx = withExpressions(taskCtx, t.expressions);
  const { probed, changes, steps, error } = evaluate(t.module, t.args, facts, ctx);
  if (!probed.known) return { ...base, outcome: 'may-change', changes: [], reason: probed.reason, probed };
  // Issue 15: what a control module registers when it fails (assert's assertion, evaluated_to).
  if (error !== undefined) return { ...base, outcome: 'error', changes: [], reason: error, probed, ...reported(t, facts, ctx) };
  const guarded = guardChanges(changes, ctx);
  // Issue 15: a module such as stat registers what it read; debug and assert print a message.
  return { ...base, outcome: guarded.length ? 'change' : 'ok', changes: guarded, probed, steps, ...reported(t, facts, ctx) };
}

/** Issue 15: what a task registers beyond changed/failed, and the message it prints (redacted). */
function reported(t: PreparedTask, facts: TaskFacts, ctx: ModuleContext): Pick<TaskPlan, 'registered' | 'message'> {
  const registered = t.module.registers?.(t.args, facts as never, ctx);
  const message = t.module.message?.(t.args, facts as never, ctx);
  return { ...(registered ? { registered } : {}), ...(message !== undefined ? { message: ctx.redact(message) } : {}) };
}

export async function planTasks(input: PlanInput): Promise<PlannedTasks> {
  if (isDynamic(input.play)) return planDynamic(input);
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
    // Delegated tasks are left out of the host's probes (gather.ts); they are read on the controller.
    const delegated = await probeDelegated(input.local, gathered.prepared, ctx, (t) => becomeOf(play, t.task), input.timeoutMs);
    for (const [index, f] of delegated) gathered.facts.set(index, f);
    probed = gathered;
    // Handlers with the facts, still before anything changes on the host.
    play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
  } else {
    const prepared = play.tasks.map((task, i) => prepareTask(task, i, scope, filter));
    // Handlers too, before the first probe: an argument that fails its check stops the host before
    // anything runs on it, not after the tasks that notify the handler have changed it.
    // (An Ansible module plumb lacks fails a handler only if it is notified.)
    play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
    const [remote, delegated] = await Promise.all([
      probeTasks(
        transport,
        prepared.filter((t) => !t.task.delegate_to),
        ctx,
        (t) => becomeOf(play, t.task),
        extras,
        input.timeoutMs,
      ),
      probeDelegated(input.local, prepared, ctx, (t) => becomeOf(play, t.task), input.timeoutMs),
    ]);
    for (const [index, f] of delegated) remote.facts.set(index, f);
    probed = { prepared, ...remote };
  }
  const { prepared, facts, extra } = probed;
  const pending = parsePending(extra[0] ?? '').filter((name) => play.handlers.some((h) => h.name === name));
  const tasks = markBlockPlans(
    prepared.map((t) => taskPlanFrom(t, facts.get(t.index), taskContext(ctx, t.task))),
    transport.host,
    input.runOnceHost,
  );
  noteRereads(tasks);
  // Issue 13: facts a fact module reads after a change are read again at apply.
  if (gathered) {
    markStaleFactReaders(play, tasks, prepared, (t) => gathered.setNames.get(t.index));
    settleFactModules(tasks, prepared);
  }
  return {
    prepared,
    tasks,
    handlers: planHandlersAtFlushPoints(play, tasks, pending),
    pendingHandlers: pending,
    ...(scope !== input.scope ? { scope, ctx } : {}),
    ...(gathered ? { refresh: gathered.refresh } : {}),
  };
}

/** Say why an unknown state may settle: apply reads it again after the earlier change. */
function noteRereads(tasks: TaskPlan[]): void {
  const firstChange = tasks.findIndex((t) => t.outcome === 'change');
  if (firstChange < 0) return;
  for (const t of tasks.slice(firstChange + 1)) {
    if (t.outcome === 'may-change' && !t.reason?.startsWith('depends on') && !t.reason?.includes('runs again at apply'))
      t.reason = `${t.reason}; read again after "${tasks[firstChange].task.name}" changes the host`;
  }
}

/**
 * A play with loops, register or set_fact (issue 13, src/engine/dynamic.ts): walks of the play,
 * each fetching in one batched script what the last one still needed (facts, read-only
 * commands), until nothing is missing. Usually one round trip; a second only when arguments
 * are computed from what a read-only command printed.
 */
async function planDynamic(input: PlanInput): Promise<PlannedTasks> {
  const { transport, play } = input;
  let { scope, ctx } = input;
  const gather = input.facts?.usage.gather === true;
  // The walk does not layer what setup/service_facts/package_facts read under the tasks after them yet.
  if (input.facts?.usage.factModules)
    throw new Error('setup, service_facts and package_facts are not supported yet in a play with loops, register or set_fact; gather facts with the play (gather_facts) instead');
  // Facts: the first walk runs with stand-in facts so that the fact snippet rides in the first
  // round trip; a probe or read that asks something else under the real facts is asked again
  // (knowledge is keyed by what was asked: factKey, readKey).
  if (gather) {
    scope = withFacts(input.scope, standInFacts(0));
    ctx = input.facts!.contextOf(scope);
  } else {
    play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
  }
  const knowledge: Knowledge = { facts: new Map(), reads: new Map() };
  const filter = { tags: input.tags, skipTags: input.skipTags };
  let pendingOutput = '';
  for (let round = 0; ; round++) {
    const walkCtx = ctx;
    const runOnceElsewhere = input.runOnceHost !== transport.host ? input.runOnceHost : undefined;
    const walk = walkPlan({ play, scope, ctx: walkCtx, filter, planFrom: taskPlanFrom, runOnceElsewhere }, knowledge);
    if (round > 0 && !walk.needFacts.length && !walk.needReads.length) {
      // With facts, handlers are checked once the real facts are in (still before anything changes).
      if (gather) play.handlers.forEach((handler, i) => hasModule(handler) && prepareTask(handler, i, scope));
      const pending = parsePending(pendingOutput).filter((name) => play.handlers.some((h) => h.name === name));
      const tasks = markBlockPlans(walk.tasks, transport.host, input.runOnceHost);
      noteRereads(tasks);
      return {
        prepared: walk.prepared,
        tasks,
        handlers: planHandlersAtFlushPoints(play, tasks, pending),
        pendingHandlers: pending,
        knowledge,
        ...(gather ? { scope, ctx } : {}),
      };
    }
    if (round > play.tasks.length + 1) throw new Error('the plan did not settle: values computed from read-only commands kept changing');
    const extras =
      round === 0 ? [{ snippet: readPendingSnippet(input.pending), become: playBecome(play) }, ...(gather ? [{ snippet: factSnippet(), become: playBecome(play) }] : [])] : [];
    let { needFacts, needReads } = walk;
    if (round === 0 && gather) {
      // Only what asks the same under a second, different stand-in: what does not depend on fact values.
      const other = withFacts(input.scope, standInFacts(1));
      const otherCtx = input.facts!.contextOf(other);
      const alt = walkPlan({ play, scope: other, ctx: otherCtx, filter, planFrom: taskPlanFrom, runOnceElsewhere }, knowledge);
      const altFacts = new Set(alt.needFacts.map((inst) => factKey(inst, taskContext(otherCtx, inst.task))));
      const altReads = new Set(alt.needReads.map((inst) => readKey(inst, commandOf(inst.prepared, taskContext(otherCtx, inst.task))!.command)));
      needFacts = needFacts.filter((inst) => altFacts.has(factKey(inst, taskContext(walkCtx, inst.task))));
      needReads = needReads.filter((inst) => altReads.has(readKey(inst, commandOf(inst.prepared, taskContext(walkCtx, inst.task))!.command)));
    }
    const commands = needReads.map((inst) => commandOf(inst.prepared, taskContext(walkCtx, inst.task))!.command);
    const reads = needReads.map((inst, i) => ({ snippet: readSnippet(commands[i]), become: becomeOf(play, inst.task) }));
    // probeTasks keys facts by index: number this round's instances.
    const asked = needFacts.map((inst, i) => ({ ...inst.prepared, index: i }));
    const [{ facts, extra, extraOutputs }, delegated] = await Promise.all([
      probeTasks(
        transport,
        asked.filter((t) => !t.task.delegate_to),
        walkCtx,
        (t) => becomeOf(play, t.task),
        [...extras, ...reads],
        input.timeoutMs,
      ),
      probeDelegated(input.local, asked, walkCtx, (t) => becomeOf(play, t.task), input.timeoutMs),
    ]);
    for (const [index, f] of delegated) facts.set(index, f);
    needFacts.forEach((inst, i) => knowledge.facts.set(factKey(inst, taskContext(walkCtx, inst.task)), facts.get(i) ?? {}));
    needReads.forEach((inst, i) => knowledge.reads.set(readKey(inst, commands[i]), extraOutputs[extras.length + i]));
    if (round === 0) {
      pendingOutput = extra[0] ?? '';
      if (gather) {
        scope = withFacts(input.scope, gatheredFacts(play, extra[1] ?? ''));
        ctx = input.facts!.contextOf(scope);
      }
    }
  }
}
