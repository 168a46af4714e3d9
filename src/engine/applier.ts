/**
 * The applier: the only code that changes hosts. It walks a host's plan in
 * task order (blocks, rescue and always as Ansible walks them: engine/blocks.ts),
 * re-probes a task whose state was unknown or that follows a change, runs the
 * module's steps, and runs notified handlers, in the order they are defined,
 * at each flush point (after pre_tasks, after roles and tasks, after
 * post_tasks, at meta: flush_handlers).
 */
import { taskScope, type HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import type { ModuleContext, RunStep } from '../modules/types.js';
import { UnreachableError, type ExecResult, type Transport } from '../transport/types.js';
import { ApplyRuntime, isDynamic, type ApplyOps } from './dynamic.js';
import { clearPendingCommand, writePendingCommand, type PendingKeys } from './pending.js';
import type { RunningCommands } from './running.js';
import { taskContext } from './context.js';
import { becomeOf, playBecome, taskPlanFrom, type PlannedTasks } from './planner.js';
import { prepareTask, type PreparedTask } from './prepare.js';
import { probeTasks } from './probe.js';
import type { TaskPlan, TaskResult } from './types.js';
import type { BatchState } from './batch.js';
import { phasesOf, taskTree, walk, type WalkEnd } from './blocks.js';
import { controllerTransport } from './task-keywords.js';
import { refreshFacts } from './fact-refresh.js';
import { factRefs } from '../modules/contract.js';
import { waitsOnly } from './blocks.js';
import type { TaskFacts } from './probe.js';

export interface ApplyHooks {
  taskStart?(name: string): void;
  taskDone?(result: TaskResult): void;
  /** True once the run is interrupted: no new task starts. */
  stopped?(): boolean;
}

export interface ApplyInput {
  transport: Transport;
  play: Play;
  scope: HostScope;
  ctx: ModuleContext;
  planned: PlannedTasks;
  timeoutMs?: number;
  hooks?: ApplyHooks;
  /** Where this play's owed handlers are kept on the host. */
  pending: PendingKeys;
  /** Commands in flight, for the second Ctrl-C. */
  running?: RunningCommands;
  /** The control machine, for tasks with delegate_to: localhost. */
  local?: Transport;
  /** What the hosts of the batch share: run_once results, any_errors_fatal, end_play. */
  batch?: BatchState;
}

/** How one host's apply ended; `error` says why when the host failed without a failed task of its own. */
export interface Applied {
  results: TaskResult[];
  failed: boolean;
  error?: string;
}

export class StepError extends Error {}
export class InterruptedError extends Error {}

/** The host stopped (Ctrl-C, lost connection, a failure outside any task); carries what was done before. */
export class ApplyStopped extends Error {
  constructor(
    readonly reason: Error,
    readonly results: TaskResult[],
  ) {
    super(reason.message);
  }
}

/** Runs `work` as one tracked remote command when a tracker is given. */
type Track = <T>(task: string, command: string, work: () => Promise<T>) => Promise<T>;
const untracked: Track = (_task, _command, work) => work();

/**
 * Run a task's steps in order; a failing command throws StepError unless `tolerate` (a
 * command/shell whose result is judged by the caller: register, failed_when). Returns the
 * last command's output.
 */
export async function runSteps(
  transport: Transport,
  steps: RunStep[],
  become: boolean | string,
  ctx: ModuleContext,
  task: Task,
  timeoutMs?: number,
  track: Track = untracked,
  tolerate = false,
): Promise<ExecResult | undefined> {
  let last: ExecResult | undefined;
  for (const step of steps) {
    if (step.kind === 'write') {
      await track(task.name, step.describe, () => transport.writeFile(step.path, step.content, { mode: step.mode, owner: step.owner, group: step.group, become }));
      continue;
    }
    const result = await track(task.name, step.describe, () => transport.exec(step.command, { stdin: step.stdin, become, timeoutMs, label: task.name }));
    last = result;
    if (result.code !== 0 && !tolerate) {
      if (step.failsWith !== undefined && result.code !== null) throw new StepError(ctx.redact(step.failsWith));
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
      const how = result.code === null ? `killed by ${result.signal}` : `exited ${result.code}`;
      throw new StepError(ctx.redact(`${step.describe}: ${how}${tail ? `: ${tail}` : ''}`));
    }
  }
  return last;
}

function changedWhen(task: Task, scope: HostScope): boolean {
  if (task.changed_when === undefined) return true;
  if (typeof task.changed_when === 'boolean') return task.changed_when;
  return taskScope(scope, task).condition(task.changed_when, task.pos);
}

/**
 * Apply one host's plan. Returns per-task results; when the host stops early
 * (Ctrl-C, lost connection) throws ApplyStopped with the results so far, so
 * the recap still counts what changed.
 */
export async function applyHost(input: ApplyInput): Promise<Applied> {
  const results: TaskResult[] = [];
  try {
    return await applyTasks(input, results);
  } catch (e) {
    throw new ApplyStopped(e instanceof Error ? e : new Error(String(e)), results);
  }
}

async function applyTasks(input: ApplyInput, results: TaskResult[]): Promise<Applied> {
  const { transport, play, planned, hooks } = input;
  // Issue 13: a fact module read again at apply gives the tasks after it (and handlers) new facts.
  let { scope, ctx } = input;
  const refreshed = new Set<number>();
  const reread = new Map<number, TaskFacts>();
  const host = transport.host;
  const track: Track = input.running ? (task, command, work) => input.running!.track(host, task, command, work) : untracked;
  const notified = new Set<string>(planned.pendingHandlers);
  let pendingWritten = new Set<string>(planned.pendingHandlers);
  let dirty = false; // an earlier task changed the host: later probes may be stale
  let local = input.local;
  /** Where a task runs: the host, or the control machine for delegate_to: localhost. */
  const on = (task: Task): Transport => (task.delegate_to ? (local ??= controllerTransport(input.timeoutMs ?? 0)) : transport);

  const reprobe = async (t: PreparedTask): Promise<TaskPlan> => {
    // Issue 15: a task that reads nothing on the host (debug, assert, pause) is planned here, without a round trip.
    if (readsNothing(t, ctx)) return taskPlanFrom(t, {}, taskContext(ctx, t.task));
    // Only this task's facts: what it changes is read again just before it changes it.
    const { facts } = await track(t.task.name, 'probe (read-only)', () => probeTasks(on(t.task), [t], ctx, (p) => becomeOf(play, p.task), [], input.timeoutMs));
    if (t.module.setsFacts && facts.has(t.index)) reread.set(t.index, facts.get(t.index)!);
    return taskPlanFrom(t, facts.get(t.index), taskContext(ctx, t.task));
  };

  const recordPending = async (names: string[]) => {
    const missing = names.filter((n) => !pendingWritten.has(n));
    if (!missing.length) return;
    const all = [...pendingWritten, ...missing];
    const write = writePendingCommand(input.pending);
    const r = await track('record pending handlers', 'write the names of the handlers owed', () =>
      transport.exec(write.command, { stdin: write.content(all), become: playBecome(play), timeoutMs: input.timeoutMs, label: 'record pending handlers' }),
    );
    if (r.code !== 0) throw new StepError(`could not record pending handlers: ${r.stderr.trim()}`);
    pendingWritten = new Set(all);
  };

  const runOne = async (t: PreparedTask, initial: TaskPlan | undefined, handler: boolean, decide?: Parameters<ApplyOps['runOne']>[2]): Promise<TaskResult> => {
    const name = t.task.name;
    if (t.skip) return { name, status: 'skipped', changes: [], handler };
    // A plan that skipped a task that runs after all (run_once taken over from a host that stopped) is no plan.
    const usable = initial && !dirty && initial.outcome !== 'may-change' && initial.outcome !== 'skipped';
    const plan = usable ? initial : await reprobe(t);
    if (plan.outcome === 'may-change') {
      return { name, status: 'failed', changes: [], error: `cannot tell the current state: ${plan.reason}`, handler };
    }
    // Issue 15: what the task registers beyond changed/failed, and what it prints.
    const reported = { ...(plan.registered ? { registered: plan.registered } : {}), ...(plan.message !== undefined ? { message: plan.message } : {}) };
    if (plan.outcome === 'error') return { name, status: 'failed', changes: [], error: plan.reason, handler, ...reported };
    if (plan.outcome === 'ok' || plan.outcome === 'skipped') return { name, status: plan.outcome === 'ok' ? 'ok' : 'skipped', changes: [], handler, ...reported };
    const steps = plan.steps ?? [];
    // Issue 15: a wait (pause, wait_for) runs its steps but changes nothing: ok, and it notifies nothing.
    const waited = waitsOnly(plan);
    if (!handler && t.task.notify.length && !waited) await recordPending(t.task.notify);
    const out = await runSteps(
      on(t.task),
      steps,
      becomeOf(play, t.task),
      ctx,
      t.task,
      input.timeoutMs,
      track,
      decide !== undefined && (t.task.module === 'command' || t.task.module === 'shell'),
    );
    dirty = true;
    if (decide) {
      // Issue 13: the result is judged with what really ran (register, changed_when, failed_when).
      const verdict = decide(out, { waited, registered: plan.registered });
      if (verdict.failed !== undefined) return { name, status: 'failed', changes: [], error: verdict.failed, handler };
      return { name, status: verdict.changed ? 'changed' : 'ok', changes: verdict.changed ? plan.changes : [], handler, ...reported };
    }
    const changed = waited ? t.task.changed_when !== undefined && changedWhen(t.task, scope) : changedWhen(t.task, scope);
    return { name, status: changed ? 'changed' : 'ok', changes: changed ? plan.changes : [], handler, ...reported };
  };

  /**
   * Everything that happens for one task (render, re-probe, diff, writes, commands, changed_when)
   * is that task's: a failure is recorded against it, honours ignore_errors, and the host goes on
   * or stops as for any failed task. Only a lost connection ends the host.
   */
  const attempt = async (task: Task, handler: boolean, work: () => Promise<TaskResult>): Promise<TaskResult> => {
    hooks?.taskStart?.(task.name);
    let result: TaskResult;
    try {
      result = await work();
    } catch (e) {
      if (e instanceof InterruptedError || (e instanceof UnreachableError && !task.ignore_unreachable)) throw e;
      const message = ctx.redact(e instanceof Error ? e.message : String(e));
      result = { name: task.name, status: 'failed', changes: [], error: e instanceof UnreachableError ? `unreachable: ${message}` : message, handler };
    }
    // ignore_unreachable: the host's lost connection is this task's ignored failure; the next task tries again.
    if (result.status === 'failed' && (task.ignore_errors || (task.ignore_unreachable && result.error?.startsWith('unreachable: ')))) result.ignored = true;
    results.push(result);
    hooks?.taskDone?.(result);
    return result;
  };

  // Issue 13: a play with loops, register or set_fact expands each task with what really ran before it.
  const runtime = isDynamic(play) ? new ApplyRuntime(play, scope, ctx, planned) : undefined;
  const ops: ApplyOps = {
    dirty: () => dirty,
    runOne: (t, initial, decide) => runOne(t, initial, false, decide),
    exec: async (command, task) => {
      const r = await track(task.name, task.name, () => on(task).exec(command, { become: becomeOf(play, task), timeoutMs: input.timeoutMs, label: task.name }));
      return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    sleep: (s) => new Promise((resolve) => setTimeout(resolve, s * 1000)),
  };
  /** One task of a dynamic play: its instances (loop items) in order; the result the walk sees sums them up. */
  const runDynamic = async (task: Task, index: number): Promise<TaskResult> => {
    let instances;
    try {
      instances = runtime!.expand(task, index);
    } catch (e) {
      return attempt(task, false, () => Promise.reject(e));
    }
    let changed = false;
    let failed: TaskResult | undefined;
    // As Ansible: every item runs even after one failed; the task fails after its last item.
    for (const [i, inst] of instances.entries()) {
      if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
      if (i > 0 && runtime!.pause(task)) await ops.sleep(runtime!.pause(task));
      const result = await attempt(inst.task, false, () => runtime!.run(inst, ops));
      if (result.status === 'failed' && !result.ignored) failed ??= result;
      changed ||= result.status === 'changed';
    }
    // Registered even when it failed: a rescue or a later ignore_errors task reads it.
    runtime!.finish(task, instances);
    if (failed) return failed;
    return { name: task.name, status: changed ? 'changed' : instances.length && instances.every((i) => i.prepared.skip) ? 'skipped' : 'ok', changes: [] };
  };
  /** A task of a plain play; a fact module read again at apply gives the tasks after it the new facts. */
  const runStatic = async (t: PreparedTask): Promise<TaskResult> => {
    const result = await attempt(t.task, false, () =>
      refreshed.has(t.index) ? runOne(refreshFacts.prepare(t, scope), undefined, false) : runOne(t, planned.tasks[t.index], false),
    );
    if (t.module.setsFacts && result.status === 'ok' && planned.refresh) {
      const next = planned.refresh.after(t, reread.get(t.index));
      if (next) {
        ({ scope, ctx } = next);
        for (const later of planned.prepared) if (later.index > t.index) refreshed.add(later.index);
      }
    }
    return result;
  };
  const units: Unit[] = runtime ? play.tasks.map((task, index) => ({ index, task })) : planned.prepared;
  const byIndex = new Map(planned.prepared.map((t) => [t.index, t]));
  try {
    return await walkPlay(input, units, results, {
      attempt: (u) => (runtime ? runDynamic(u.task, u.index) : runStatic(byIndex.get(u.index)!)),
      // A meta task's `when`, decided as the task would be: with what ran before it in a dynamic play.
      // run_once (issue 13): the host that ran the task shares what it registered; the others take it.
      registered: (u) => runtime?.registered(u.task),
      adopt: (u, value) => runtime?.adopt(u.task, value),
      skipOf: (u) => (runtime ? (u.task.meta ? runtime.expand(u.task, u.index)[0]?.prepared.skip : undefined) : byIndex.get(u.index)?.skip),
      notify: (names) => names.forEach((n) => notified.add(n)),
      flush: async () => {
        for (const [i, handler] of play.handlers.entries()) {
          if (!notified.has(handler.name)) continue;
          if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
          const result = await attempt(handler, true, () => runOne(prepareTask(handler, i, scope), undefined, true));
          if (result.status === 'failed' && !result.ignored) return false;
        }
        notified.clear();
        if (pendingWritten.size) {
          const r = await track('clear pending handlers', 'remove the record of owed handlers', () =>
            transport.exec(clearPendingCommand(input.pending), { become: playBecome(play), timeoutMs: input.timeoutMs }),
          );
          if (r.code !== 0) throw new StepError(`could not clear pending handlers: ${r.stderr.trim()}`);
          pendingWritten = new Set();
        }
        return true;
      },
    });
  } finally {
    if (local && !input.local) await local.close();
  }
}

/** Issue 15: a task whose module asks for no fact (debug, assert, fail, pause): planning it needs no probe. */
function readsNothing(t: PreparedTask, ctx: ModuleContext): boolean {
  return !t.skip && !t.task.meta && Object.keys(factRefs(t.module, t.args, taskContext(ctx, t.task))).length === 0;
}

/** What the walk needs of a task: which one it is (its blocks, its phase). */
type Unit = Pick<PreparedTask, 'index' | 'task'>;

interface PlayHooks {
  attempt(t: Unit): Promise<TaskResult>;
  /** Why a task does not run on this host (its when, its tags), if it does not. */
  skipOf(t: Unit): string | undefined;
  notify(names: string[]): void;
  registered(t: Unit): { value: unknown; secret: boolean } | undefined;
  adopt(t: Unit, value: { value: unknown; secret: boolean } | undefined): void;
  /** Run the notified handlers; false when one failed. */
  flush(): Promise<boolean>;
}

/** The play's sections in order, each walked as blocks, with the handlers flushed after each. */
async function walkPlay(input: ApplyInput, prepared: Unit[], results: TaskResult[], h: PlayHooks): Promise<Applied> {
  const { play, batch, hooks } = input;
  const host = input.transport.host;
  let stopError: string | undefined;
  const runTask = async (t: Unit, rescuable: boolean): Promise<WalkEnd> => {
    await batch?.reach(host, t.index);
    if (hooks?.stopped?.()) throw new InterruptedError('interrupted');
    if (batch?.fatal) {
      // Not this host's failure: nothing of it runs any more, not even a rescue or always.
      stopError = batch.fatal;
      return 'end';
    }
    if (batch?.endPlay) return 'end';
    if (t.task.meta) return metaAction(t);
    let result: TaskResult;
    if (t.task.run_once && batch) {
      const once = await batch.runOnce(t.index, host, async () => {
        const ran = await h.attempt(t);
        const value = h.registered(t);
        if (value) batch.registered.set(t.index, value);
        return ran;
      });
      if (once.ranOn !== undefined) h.adopt(t, batch.registered.get(t.index));
      if (once.ranOn === undefined) result = once.result;
      else if (once.result.status === 'failed' && !once.result.ignored) {
        // Ansible fails every host of the batch with the one that ran it.
        result = { name: t.task.name, status: 'failed', changes: [], error: `run_once: failed on ${once.ranOn}: ${once.result.error ?? ''}` };
        results.push(result);
        hooks?.taskDone?.(result);
      } else return 'ok';
    } else result = await h.attempt(t);
    if (result.status === 'changed') h.notify(t.task.notify);
    if (result.status !== 'failed' || result.ignored) return 'ok';
    if (batch && !rescuable && (t.task.any_errors_fatal ?? play.any_errors_fatal))
      batch.fatal ??= `stopped: ${host} failed "${t.task.name}", and any_errors_fatal stops the play for every host`;
    return 'failed';
  };
  const metaAction = async (t: Unit): Promise<WalkEnd> => {
    const skip = h.skipOf(t);
    if (skip && t.task.meta !== 'end_play') return 'ok';
    switch (t.task.meta) {
      case 'flush_handlers':
        return (await h.flush()) ? 'ok' : 'failed';
      case 'end_host':
        return 'end';
      case 'end_play':
        // Decided once for the batch (on its first host), as Ansible does.
        if (!batch) return skip ? 'ok' : 'end';
        await batch.runOnce(t.index, host, async () => {
          if (!skip) batch.endPlay ??= t.task.name;
          return { name: t.task.name, status: 'ok', changes: [] };
        });
        return batch.endPlay ? 'end' : 'ok';
      default:
        return 'ok';
    }
  };
  const phases = phasesOf(prepared);
  for (const phase of phases.length ? phases : [[]]) {
    const end = await walk(taskTree(phase), {
      task: runTask,
      // Every failure not yet ignored or rescued is this block's: an earlier one would have stopped the host.
      rescued: () => {
        for (const r of results) if (r.status === 'failed' && !r.ignored) r.rescued = true;
      },
    });
    if (end === 'failed') return { results, failed: true };
    if (end === 'end') return stopError ? { results, failed: true, error: stopError } : { results, failed: false };
    if (!(await h.flush())) return { results, failed: true };
  }
  return { results, failed: false };
}
