/**
 * The scheduler (`run`, `runPlay`): plays in order; in each play the matched
 * hosts in rolling batches (`serial`), hosts of a batch in parallel up to
 * `forks`. The per-host pipeline (`runHost`) connects, plans and applies one
 * host. A failing or unreachable host stops only itself (and is left out of
 * later plays).
 */
import { dirname } from 'node:path';

import pLimit from 'p-limit';
import { hostScope, type HostScope } from '../config/hostvars.js';
import type { Play } from '../config/model.js';
import type { Project } from '../config/project.js';
import { applyLimit, matchHosts } from '../inventory/patterns.js';
import { openTransport, type TransportOptions } from '../transport/index.js';
import { UnreachableError, type Transport } from '../transport/types.js';
import { applyHost, ApplyStopped, InterruptedError } from './applier.js';
import { pendingKeys } from './pending.js';
import { RunningCommands } from './running.js';
import { moduleContext } from './context.js';
import { playFactUsage } from './fact-usage.js';
import { planTasks } from './planner.js';
import { selectedByTags, TaskPrepareError } from './prepare.js';
import type { HostPlan, HostResult, Reporter, TaskResult } from './types.js';
import { waitsOnly } from './blocks.js';
import { BatchState } from './batch.js';
import { controllerTransport } from './task-keywords.js';

export interface RunOptions {
  mode: 'plan' | 'apply';
  forks: number;
  failFast?: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  taskTimeoutMs?: number;
  transport: TransportOptions;
  reporter: Reporter;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /**
   * For `apply PLAN.json`: called with the fresh plan of each host before
   * anything is changed; a returned string refuses the host with that reason.
   */
  gate?: (plan: HostPlan) => string | undefined;
  /** Host scopes resolved before the run (secrets checked); computed here when absent. */
  scopeFor?: (play: Play, host: string) => HostScope | undefined;
  /** Filled with the remote commands in flight, so a caller can say what is still running. */
  running?: RunningCommands;
}

export interface RunResult {
  plans: HostPlan[];
  results: HostResult[];
  interrupted: boolean;
}

export function batchSizes(total: number, serial: Play['serial']): number[] {
  if (serial === undefined || total === 0) return [total];
  const size = typeof serial === 'string' && serial.endsWith('%') ? Math.max(1, Math.floor((total * Number(serial.slice(0, -1))) / 100)) : Math.max(1, Number(serial));
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

export function playHosts(project: Project, play: Play, limit?: string): string[] {
  return applyLimit(project.inventory, matchHosts(project.inventory, play.hosts), limit);
}

function emptyResult(host: string, status: HostResult['status'], seconds: number, error?: string): HostResult {
  return { host, status, ok: 0, changed: 0, failed: 0, skipped: 0, tasks: [], error, seconds };
}

/** The recap's error line says which task failed, not only how. */
function failedTaskError(tasks: TaskResult[]): string | undefined {
  const t = tasks.find((r) => r.status === 'failed' && !r.ignored && !r.rescued);
  return t ? `${t.handler ? 'handler' : 'task'} "${t.name}": ${t.error}` : undefined;
}

function tally(host: string, tasks: TaskResult[], failed: boolean, seconds: number, error?: string): HostResult {
  const count = (s: TaskResult['status']) => tasks.filter((t) => t.status === s).length;
  const changed = count('changed');
  return {
    host,
    status: failed ? 'failed' : changed ? 'changed' : 'ok',
    ok: count('ok'),
    changed,
    failed: tasks.filter((t) => t.status === 'failed' && !t.ignored && !t.rescued).length,
    skipped: count('skipped'),
    tasks,
    error: failed ? (failedTaskError(tasks) ?? error) : undefined,
    seconds,
  };
}

/**
 * A host that stopped part way through apply: the recap counts what it did
 * before (a run cut by Ctrl-C or a lost connection has often changed files).
 */
function stoppedDuringApply(host: string, stop: ApplyStopped, seconds: number, redact: (text: string) => string): HostResult {
  const done = tally(host, stop.results, false, seconds);
  if (stop.reason instanceof InterruptedError) {
    return { ...done, status: stop.results.length ? 'interrupted' : 'not-run', error: 'interrupted: later tasks and handlers did not run' };
  }
  const status = stop.reason instanceof UnreachableError ? 'unreachable' : 'failed';
  return { ...done, status, error: redact(stop.reason.message) };
}

/** Merge the result of one host across plays into one recap row. */
function merge(a: HostResult | undefined, b: HostResult): HostResult {
  if (!a) return b;
  const worse = ['unreachable', 'failed', 'refused', 'interrupted', 'changed', 'ok', 'not-run'];
  const status = worse.indexOf(a.status) <= worse.indexOf(b.status) ? a.status : b.status;
  return {
    host: a.host,
    status,
    ok: a.ok + b.ok,
    changed: a.changed + b.changed,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
    tasks: [...a.tasks, ...b.tasks],
    error: a.error ?? b.error,
    seconds: a.seconds + b.seconds,
  };
}

/** What the scheduler and the per-host pipeline share during one run. */
interface RunState {
  project: Project;
  options: RunOptions;
  baseDir: string;
  /** One connection per host, reused by every play. */
  connections: Map<string, Promise<Transport>>;
  plans: HostPlan[];
  results: Map<string, HostResult>;
  /** Failed or unreachable: left out of later plays. */
  dead: Set<string>;
  stopAll: boolean;
  /** The control machine, opened for the first delegated task. */
  local?: Transport;
  /** One options object for every host: the transport caches known_hosts and decoded keys per options object. */
  transportOptions?: TransportOptions;
}

function stopped(state: RunState): boolean {
  return state.stopAll || Boolean(state.options.signal?.aborted);
}

/** The scheduler: plays in order, each in batches; returns plans and recap rows in a stable order. */
export async function run(project: Project, options: RunOptions): Promise<RunResult> {
  const state: RunState = {
    project,
    options,
    baseDir: dirname(project.playbook.file),
    connections: new Map(),
    plans: [],
    results: new Map(),
    dead: new Set(),
    stopAll: false,
  };
  try {
    for (const play of project.playbook.plays) {
      if (stopped(state)) break;
      await runPlay(state, play);
    }
  } finally {
    await state.local?.close().catch(() => undefined);
    await Promise.all([...state.connections.values()].map((c) => c.then((t) => t.close()).catch(() => undefined)));
  }
  // Hosts finish in any order; report them in play order, then inventory order.
  const order = new Map([...project.inventory.hosts.keys()].map((h, i) => [h, i]));
  const plays = project.playbook.plays;
  const plans = state.plans.sort((a, b) => plays.indexOf(a.play) - plays.indexOf(b.play) || order.get(a.host)! - order.get(b.host)!);
  const rows = [...state.results.values()].sort((a, b) => order.get(a.host)! - order.get(b.host)!);
  return { plans, results: rows, interrupted: Boolean(options.signal?.aborted) };
}

/** One play: its hosts in rolling batches (`serial`), each batch in parallel up to `forks`. */
async function runPlay(state: RunState, play: Play): Promise<void> {
  const { options } = state;
  const hosts = playHosts(state.project, play, options.limit).filter((h) => !state.dead.has(h));
  options.reporter.playStart(play.name, hosts);
  const limit = pLimit(Math.max(1, options.forks));
  let offset = 0;
  let failedInPlay = 0;
  for (const size of batchSizes(hosts.length, play.serial)) {
    const batch = hosts.slice(offset, (offset += size));
    const shared = new BatchState(batch, needsLockstep(play) && batch.length <= Math.max(1, options.forks));
    const batchResults = await Promise.all(batch.map((name) => limit(() => startHost(state, play, name, shared))));
    failedInPlay += recordResults(state, batchResults);
    if (shared.fatal) {
      options.reporter.notice(`${play.name}: ${shared.fatal}`);
      state.stopAll = true;
    }
    // meta: end_play ends this play for every host, later batches too; the next play runs.
    if (shared.endPlay) {
      for (const name of hosts.slice(offset))
        if (!state.results.has(name)) state.results.set(name, emptyResult(name, 'not-run', 0, `not started: "${shared.endPlay}" ended the play`));
      break;
    }
    if (play.max_fail_percentage !== undefined && hosts.length > 0 && (failedInPlay * 100) / hosts.length > play.max_fail_percentage) {
      options.reporter.notice(`${play.name}: ${failedInPlay} of ${hosts.length} hosts failed, above max_fail_percentage ${play.max_fail_percentage}; stopping`);
      state.stopAll = true;
    }
    if (stopped(state)) {
      // The recap still names the hosts this play never reached.
      for (const name of hosts.slice(offset)) if (!state.results.has(name)) state.results.set(name, emptyResult(name, 'not-run', 0, 'not started: run stopped'));
      break;
    }
  }
}

async function startHost(state: RunState, play: Play, name: string, batch?: BatchState): Promise<HostResult> {
  if (stopped(state)) {
    batch?.hostFinished(name);
    return emptyResult(name, 'not-run', 0, 'not started: run stopped');
  }
  let r: HostResult;
  try {
    r = await runHost(state, play, name, batch);
  } finally {
    batch?.hostFinished(name);
  }
  if ((r.status === 'failed' || r.status === 'unreachable') && state.options.failFast) state.stopAll = true;
  return r;
}

/** Report and merge a batch's results; returns how many hosts failed or were unreachable. */
function recordResults(state: RunState, batchResults: HostResult[]): number {
  let failed = 0;
  for (const r of batchResults) {
    state.options.reporter.hostDone(r);
    state.results.set(r.host, merge(state.results.get(r.host), r));
    if (r.status === 'failed' || r.status === 'unreachable') {
      state.dead.add(r.host);
      failed++;
    }
    // Refused (stale saved plan): not a failure of the host, but not the host that was reviewed either.
    if (r.status === 'refused') state.dead.add(r.host);
  }
  return failed;
}

function connect(state: RunState, name: string): Promise<Transport> {
  let c = state.connections.get(name);
  if (!c) {
    const { hosts } = state.project.inventory;
    state.transportOptions ??= { ...state.options.transport, hostsByName: hosts };
    c = openTransport(hosts.get(name)!, state.transportOptions);
    state.connections.set(name, c);
  }
  return c;
}

/** The per-host pipeline: connect, resolve the host's scope, probe and plan, then (apply) gate and apply. */
async function runHost(state: RunState, play: Play, name: string, batch?: BatchState): Promise<HostResult> {
  const { project, options } = state;
  const { reporter } = options;
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  /** A host that could not be planned still has a row in the plan, saying why. */
  const stoppedBy = (status: 'failed' | 'unreachable', message: string): HostResult => {
    if (!state.plans.some((p) => p.host === name && p.play === play)) {
      const plan: HostPlan = { host: name, play, status, tasks: [], handlers: [], pendingHandlers: [], error: message, seconds: seconds() };
      state.plans.push(plan);
      reporter.hostPlanned(plan);
    }
    return emptyResult(name, status, seconds(), message);
  };
  let transport: Transport;
  try {
    reporter.hostActivity(name, 'connecting');
    transport = await connect(state, name);
  } catch (e) {
    return stoppedBy('unreachable', (e as Error).message);
  }
  let scope: HostScope;
  try {
    scope =
      options.scopeFor?.(play, name) ??
      hostScope(project, play, project.inventory.hosts.get(name)!, options.env, {
        selected: (tags) => selectedByTags({ tags }, { tags: options.tags, skipTags: options.skipTags }),
      });
  } catch (e) {
    return stoppedBy('failed', (e as Error).message);
  }
  const ctx = moduleContext(scope, state.baseDir);
  const pending = pendingKeys(project.playbook, play);
  const running = options.running ?? new RunningCommands();
  try {
    reporter.hostActivity(name, 'probing');
    const planned = await running.track(name, 'probes', 'read-only probes of every task', () =>
      planTasks({
        transport,
        play,
        scope,
        ctx,
        tags: options.tags,
        skipTags: options.skipTags,
        timeoutMs: options.taskTimeoutMs,
        pending,
        facts: { usage: playFactUsage(play, scope), contextOf: (s) => moduleContext(s, state.baseDir) },
        local: controller(state, play),
        runOnceHost: batch?.hosts[0],
      }),
    );
    const plan: HostPlan = { host: name, play, status: 'planned', tasks: planned.tasks, handlers: planned.handlers, pendingHandlers: planned.pendingHandlers, seconds: seconds() };
    state.plans.push(plan);
    reporter.hostPlanned(plan);
    if (options.mode === 'plan') return planResult(name, plan, seconds());
    const refusal = options.gate?.(plan);
    if (refusal) return emptyResult(name, 'refused', seconds(), refusal);
    const {
      results: taskResults,
      failed,
      error,
    } = await applyHost({
      transport,
      play,
      // Issue 13: with the host's facts when the play read any.
      scope: planned.scope ?? scope,
      ctx: planned.ctx ?? ctx,
      planned,
      timeoutMs: options.taskTimeoutMs,
      pending,
      running,
      local: controller(state, play),
      batch,
      hooks: {
        taskStart: (task) => reporter.hostActivity(name, task),
        taskDone: (r) => reporter.taskDone(name, r),
        stopped: () => stopped(state),
      },
    });
    return tally(name, taskResults, failed, seconds(), error);
  } catch (e) {
    if (e instanceof ApplyStopped) return stoppedDuringApply(name, e, seconds(), (t) => scope.redactor.redact(t));
    if (e instanceof InterruptedError) return emptyResult(name, 'not-run', seconds(), 'interrupted');
    if (e instanceof TaskPrepareError) {
      // An argument that fails its check once rendered: that task's failure, before anything ran on the host.
      const message = scope.redactor.redact(e.message);
      return { ...stoppedBy('failed', message), failed: 1, tasks: [{ name: e.task.name, status: 'failed', changes: [], error: message }] };
    }
    return stoppedBy(e instanceof UnreachableError ? 'unreachable' : 'failed', scope.redactor.redact((e as Error).message));
  }
}

/** Ansible's lock-step matters where one host's failure or end_play must stop the others at the same task. */
function needsLockstep(play: Play): boolean {
  return Boolean(play.any_errors_fatal) || play.tasks.some((t) => t.any_errors_fatal || t.meta === 'end_play');
}

/** The control machine's connection, opened once per run for the first play with a delegated task. */
function controller(state: RunState, play: Play): Transport | undefined {
  if (!play.tasks.some((t) => t.delegate_to)) return undefined;
  return (state.local ??= controllerTransport(state.options.transport.commandTimeoutMs ?? 0, state.options.transport.localEnv));
}

/** plan's recap row: a task that cannot be carried out is a failure of the plan, not a change to come. */
function planResult(name: string, plan: HostPlan, seconds: number): HostResult {
  const tasks: TaskResult[] = plan.tasks.map((t) =>
    t.outcome === 'error'
      ? { name: t.task.name, status: 'failed', changes: [], error: t.reason }
      : {
          name: t.task.name,
          // Issue 15: a wait (pause, wait_for) is no change to come.
          status: t.outcome === 'ok' || waitsOnly(t) ? 'ok' : t.outcome === 'skipped' || t.runsIf ? 'skipped' : 'changed',
          changes: waitsOnly(t) ? [] : t.changes,
        },
  );
  return tally(
    name,
    tasks,
    tasks.some((t) => t.status === 'failed'),
    seconds,
  );
}
