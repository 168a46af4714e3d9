/**
 * The run-time half of a play (issue 13): loops expand into task instances,
 * `register` and `set_fact` add values later tasks read, and read-only
 * commands run inside the plan's probe batch so what they register is known.
 *
 * Planning is a walk over the play in task order, recomputed from what the
 * host answered so far (`Knowledge`), so it is deterministic: each walk lists
 * the facts and read-only commands it still needs, one batched script per
 * round fetches them, and the walk is made again. A task whose `when` reads a
 * value not yet known is probed anyway (probes only read), so a read-only
 * command and the tasks gated on it cost one round trip; only arguments (or
 * a loop's list) computed from such a value need a second. A value known only
 * after a change (the result of a task that changes the host) makes the tasks
 * computed from it "may change (depends on X)".
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { taskScope, withValues, type HostScope } from '../config/hostvars.js';
import type { Play, Task } from '../config/model.js';
import { factRefs } from '../modules/contract.js';
import { defineModule, type ModuleContext, type ProbeOutput } from '../modules/types.js';
import { secretsRead as secretNamesRead } from '../config/secrecy.js';
import { TemplateError } from '../template/errors.js';
import { isTemplate } from '../template/expr.js';
import { taskContext } from './context.js';
import { canonicalJson } from './fingerprint.js';
import { defaultLabel, LoopError, loopItems, loopVariables } from './loops.js';
import { hasModule, prepareTask, selectedByTags, TaskPrepareError, type PreparedTask, type TagFilter } from './prepare.js';
import { modules } from '../modules/index.js';
import { commandResult, judge, loopResult, okResult, readOnly, READ_OUTPUT_LIMIT, skippedResult, untilHolds, type Registered } from './results.js';
import { hideSecretLeaves } from './secrecy.js';
import type { TaskPlan, TaskResult } from './types.js';
import type { TaskFacts } from './probe.js';

/** set_fact reads nothing on the host and changes nothing there: always "ok". */
const setFact = defineModule<Record<string, unknown>, Record<string, never>>({
  name: 'set_fact',
  summary: 'set variables for the later tasks of this host',
  schema: z.record(z.string(), z.unknown()),
  title: () => '',
  facts: () => ({}),
  plan: () => [],
});

/** Why a value is not known yet: it comes from a read-only command of the batch being made. */
const PENDING = '\0pending';

/** What an unknown value stands for while an expression is tried (its reads are what count). */
const PLACEHOLDER: Registered = { changed: false, failed: false, skipped: false, rc: 0, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [], msg: '', results: [] };

/** The run-time variables of one host in one play: known values, and the unknown ones with why. */
export class Runtime {
  private readonly values: Record<string, unknown> = {};
  private readonly unknown = new Map<string, string>();
  private readonly secret = new Set<string>();

  set(name: string, value: unknown, secret: boolean): void {
    this.values[name] = value;
    this.unknown.delete(name);
    if (secret) this.secret.add(name);
    else this.secret.delete(name);
  }

  setUnknown(name: string, why: string): void {
    delete this.values[name];
    this.unknown.set(name, why);
  }

  /** A known value and whether it is secret (run_once shares a registered value with the batch). */
  get(name: string): { value: unknown; secret: boolean } | undefined {
    return name in this.values ? { value: this.values[name], secret: this.secret.has(name) } : undefined;
  }

  /** `base` with the run-time values (and `extra`, a loop item's) on top. */
  scope(base: HostScope, extra: Record<string, unknown> = {}, extraSecret: string[] = []): HostScope {
    if (!Object.keys(this.values).length && !this.unknown.size && !Object.keys(extra).length) return base;
    const placeholders = Object.fromEntries([...this.unknown.keys()].map((n) => [n, PLACEHOLDER]));
    return withValues(base, { ...placeholders, ...this.values, ...extra }, new Set([...this.secret, ...extraSecret]));
  }

  /** Why one of `reads` is not known, or undefined when all are. */
  whyUnknown(reads: Iterable<string>): string | undefined {
    for (const r of reads) if (this.unknown.has(r)) return this.unknown.get(r);
    return undefined;
  }
}

type Tried<T> = { ok: true; value: T; reads: Set<string> } | { ok: false; error: unknown; reads: Set<string> };

/** Run `fn` in `scope`, keeping what it read even when it throws (a placeholder may make it throw). */
function tried<T>(scope: HostScope, fn: () => T): Tried<T> {
  const t = scope.scope.track((): { ok: true; value: T } | { ok: false; error: unknown } => {
    try {
      return { ok: true, value: fn() };
    } catch (error) {
      return { ok: false, error };
    }
  });
  return { ...t.value, reads: t.reads };
}

/**
 * Every variable the templates inside `value` read, each rendered on its own (a render that
 * tracks its leaves keeps their reads to itself, so one outer track would miss them).
 */
function readsOf(scope: HostScope, value: unknown): Set<string> {
  const reads = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (isTemplate(v)) for (const r of tried(scope, () => scope.render(v)).reads) reads.add(r);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return reads;
}

export type InstanceKind = 'module' | 'set_fact' | 'read';

/** One run of a task: the task itself, or one item of its loop. */
export interface Instance {
  index: number;
  /** `index`, or `index/item` for a loop's item: how plan and apply find each other's instance. */
  key: string;
  task: Task;
  kind: InstanceKind;
  prepared: PreparedTask;
  /** The item's scope (run-time values and loop variables), for changed_when and friends. */
  scope: HostScope;
  item?: { index: number; label: string; value: unknown; loopVar: string };
  /** The arguments or the loop's list read a value not known yet: why. */
  depends?: string;
  /** The `when` read a value not known yet: why (the task is probed anyway). */
  whenDepends?: string;
  /** Skipped because --tags/--skip-tags left it out: then `register` is not set, as in Ansible. */
  notSelected?: boolean;
  /** The arguments were computed from a secret: what the task registers is secret too. */
  secret: boolean;
}

export const instanceKey = (index: number, item?: number) => (item === undefined ? String(index) : `${index}/${item}`);

function loopDirs(task: Task): string[] {
  if (!task.searchDirs?.length) return task.loop!.dirs;
  return task.searchDirs.flatMap((d) => [`${d}/files`, d]);
}

function prepareFailure(task: Task, scope: HostScope, error: unknown): Error {
  if (error instanceof TemplateError || error instanceof LoopError) {
    return new TaskPrepareError(task, scope.redactor.redact(`task "${task.name}": ${error.message}`));
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The task's instances on this host with the run-time values known so far. */
export function expandTask(task: Task, index: number, playScope: HostScope, runtime: Runtime, filter?: TagFilter): Instance[] {
  const base = taskScope(playScope, task);
  const scope0 = runtime.scope(base);
  const kind: InstanceKind = task.module === 'set_fact' ? 'set_fact' : readOnly(task) ? 'read' : 'module';
  const stub = (t: Task, scope: HostScope, over: Partial<Instance> & { skip?: string }, item?: Instance['item']): Instance => ({
    index,
    key: instanceKey(index, item?.index),
    task: t,
    kind,
    scope,
    secret: false,
    ...(item ? { item } : {}),
    ...over,
    prepared: {
      index,
      task: t,
      module: setFact,
      args: undefined,
      leaves: [],
      secretValues: [],
      ...(over.skip ? { skip: over.skip } : {}),
      ...(item ? { item: { index: item.index, label: item.label } } : {}),
    },
  });
  if (filter && !selectedByTags(task, filter)) return [stub(task, scope0, { skip: 'not selected by --tags/--skip-tags', notSelected: true })];

  if (!task.loop) return [one(task, index, kind, scope0, runtime, stub)];
  const spec = task.loop;
  const listed = tried(scope0, () => loopItems(spec, scope0.render(spec.value, task.pos), loopDirs(task)));
  const dep = runtime.whyUnknown(listed.reads);
  if (dep) return [stub(task, scope0, { depends: dep })];
  if (!listed.ok) throw prepareFailure(task, scope0, listed.error);
  const items = listed.value;
  if (!items.length) return [stub(task, scope0, { skip: 'the loop has no items' })];
  const itemSecret = secretNamesRead(listed.reads, scope0.secretNames).length > 0 ? [spec.loop_var] : [];
  return items.map((value, i) => {
    const scope = runtime.scope(base, loopVariables(spec, value, i, items.length), itemSecret);
    let label = defaultLabel(value);
    if (spec.label !== undefined) {
      try {
        label = String(scope.render(spec.label, task.pos));
      } catch (e) {
        throw prepareFailure(task, scope, e);
      }
    }
    label = scope.redactor.redact(label);
    const t: Task = { ...task, name: `${task.name} (${label})` };
    return one(t, index, kind, scope, runtime, stub, { index: i, label, value, loopVar: spec.loop_var });
  });
}

function one(
  t: Task,
  index: number,
  kind: InstanceKind,
  scope: HostScope,
  runtime: Runtime,
  stub: (t: Task, s: HostScope, over: Partial<Instance> & { skip?: string }, item?: Instance['item']) => Instance,
  item?: Instance['item'],
): Instance {
  let whenDepends: string | undefined;
  if (t.when !== undefined) {
    const when = tried(scope, () => scope.condition(t.when!, t.pos));
    whenDepends = runtime.whyUnknown(when.reads);
    if (!whenDepends && !when.ok) throw when.error;
    if (!whenDepends && when.ok && !when.value) return stub(t, scope, { skip: `when: ${t.when} is false` }, item);
  }
  const itemRef = item ? { item: { index: item.index, label: item.label } } : {};
  const argsDep = runtime.whyUnknown(readsOf(scope, t.args));
  if (argsDep) return stub(t, scope, { depends: argsDep, whenDepends }, item);
  if (kind === 'set_fact') {
    const rendered = tried(scope, () => scope.scope.renderLeaves(t.args, t.pos));
    const dep = runtime.whyUnknown(rendered.reads);
    if (dep) return stub(t, scope, { depends: dep, whenDepends }, item);
    if (!rendered.ok) throw prepareFailure(t, scope, rendered.error);
    const unhidden = hideSecretLeaves('set_fact', rendered.value.leaves, scope);
    if (unhidden) throw new TaskPrepareError(t, `task "${t.name}": ${unhidden}`);
    const secretValues = [...new Set(rendered.value.leaves.flatMap((l) => secretNamesRead(l.reads, scope.secretNames).map((n) => String(scope.vars[n]))))];
    const prepared: PreparedTask = { index, task: t, module: setFact, args: rendered.value.value, leaves: rendered.value.leaves, secretValues, ...itemRef };
    return { index, key: instanceKey(index, item?.index), task: t, kind, scope, prepared, whenDepends, secret: secretValues.length > 0, ...(item ? { item } : {}) };
  }
  // The when is decided here; prepareTask sees it only when it is known (to word its errors).
  const made = tried(scope, () => prepareTask(whenDepends ? { ...t, when: undefined } : t, index, scope));
  const dep = runtime.whyUnknown(made.reads);
  if (dep) return stub(t, scope, { depends: dep, whenDepends }, item);
  if (!made.ok) throw made.error;
  // Issue 15: a control module's bare expressions (assert's that, debug's var) may read a value not known yet.
  const exprDep = runtime.whyUnknown(made.value.expressions?.reads ?? []);
  if (exprDep) return stub(t, scope, { depends: exprDep, whenDepends }, item);
  const prepared = { ...made.value, task: t, ...itemRef };
  return { index, key: instanceKey(index, item?.index), task: t, kind, scope, prepared, whenDepends, secret: prepared.secretValues.length > 0, ...(item ? { item } : {}) };
}

/** How a result marked secret stays hidden: its output joins the redactor. */
function hideResult(result: Registered, scope: HostScope): void {
  for (const key of ['stdout', 'stderr']) {
    const text = result[key];
    if (typeof text === 'string' && text.length >= 4) {
      scope.redactor.add(text, 'the output of a command computed from a secret');
      scope.redactor.addLines(text);
    }
  }
}

/** Set what `task` registers from its instances' results (undefined entries: not known, with why). */
function register(task: Task, instances: Instance[], results: Array<Registered | { unknown: string }>, runtime: Runtime): void {
  if (!task.register || instances.every((i) => i.notSelected)) return;
  const why = results.find((r): r is { unknown: string } => 'unknown' in r);
  if (why) return runtime.setUnknown(task.register, why.unknown);
  const secret = instances.some((i) => i.secret);
  const known = results as Registered[];
  if (task.loop && instances[0]?.item) {
    runtime.set(task.register, loopResult(instances.map((inst, i) => ({ result: known[i], item: inst.item!.value, loopVar: inst.item!.loopVar }))), secret);
  } else if (task.loop) {
    runtime.set(task.register, loopResult([]), secret);
  } else runtime.set(task.register, known[0], secret);
}

/** set_fact's variables, once its instance is decided. */
function setFacts(inst: Instance, runtime: Runtime): void {
  const facts = inst.prepared.args as Record<string, unknown> | undefined;
  if (!facts) return;
  for (const [k, v] of Object.entries(facts)) {
    if (inst.whenDepends) runtime.setUnknown(k, inst.whenDepends);
    else runtime.set(k, v, inst.secret);
  }
}

/** The shell snippet that runs a read-only command in the probe batch: its output bounded, its exit code kept. */
export function readSnippet(command: string): string {
  return [
    '__o=$(mktemp) && __e=$(mktemp) || exit 125',
    `( ${command}\n) >"$__o" 2>"$__e"`,
    '__c=$?',
    `head -c ${READ_OUTPUT_LIMIT} "$__o"; head -c ${READ_OUTPUT_LIMIT} "$__e" >&2`,
    'rm -f "$__o" "$__e"',
    'exit $__c',
  ].join('\n');
}

/** The command line a command/shell instance runs (its module's own step). */
export function commandOf(prepared: PreparedTask, ctx: ModuleContext): { command: string; shown: string } | undefined {
  const planned = prepared.module.plan(prepared.args, {}, ctx);
  const step = planned[0]?.steps[0];
  return step?.kind === 'exec' ? { command: step.command, shown: step.describe } : undefined;
}

/**
 * What an instance's probe asked (which facts, under which keys) besides which instance it is: a
 * probe made in a walk under stand-in host facts is reused only where it asked the same thing.
 */
export function factKey(inst: Instance, taskCtx: ModuleContext): string {
  const refs = Object.entries(factRefs(inst.prepared.module, inst.prepared.args, taskCtx)).map(([name, r]) => [name, r.key]);
  return `${inst.key}\0${JSON.stringify(refs)}`;
}

/** A read-only command's output is known for the command that ran, not only for the instance. */
export function readKey(inst: Instance, command: string): string {
  return `${inst.key}\0${command}`;
}

/** Everything the host answered so far, by factKey / readKey. */
export interface Knowledge {
  facts: Map<string, TaskFacts>;
  reads: Map<string, ProbeOutput>;
}

export interface Walk {
  prepared: PreparedTask[];
  tasks: TaskPlan[];
  needFacts: Instance[];
  needReads: Instance[];
  /** The first task planned to change the host: a read-only command after it reads a host that will differ. */
  changer?: string;
}

export interface WalkInput {
  play: Play;
  scope: HostScope;
  ctx: ModuleContext;
  filter: TagFilter;
  /** How a known instance is planned from its facts (the planner's taskPlanFrom). */
  planFrom(t: PreparedTask, facts: TaskFacts | undefined, ctx: ModuleContext): TaskPlan;
  /** The host run_once tasks run on, when it is another one: what they register here comes from there. */
  runOnceElsewhere?: string;
}

const outputDigest = (out: ProbeOutput) =>
  createHash('sha256')
    .update(canonicalJson([out.code, out.stdout, out.stderr]))
    .digest('hex');

/** One planning walk over the play with what is known; lists what is still needed. */
export function walkPlan(input: WalkInput, knowledge: Knowledge): Walk {
  const { play, scope } = input;
  const runtime = new Runtime();
  const walk: Walk = { prepared: [], tasks: [], needFacts: [], needReads: [] };
  for (const [index, task] of play.tasks.entries()) {
    const instances = expandTask(task, index, scope, runtime, input.filter);
    const results: Array<Registered | { unknown: string }> = [];
    let stop = false;
    for (const inst of instances) {
      const { plan, result } = planInstance(input, inst, knowledge, walk);
      if (inst.kind === 'set_fact' && !inst.prepared.skip && !inst.depends) setFacts(inst, runtime);
      if (inst.kind === 'set_fact' && inst.depends) for (const k of Object.keys((task.args as Record<string, unknown>) ?? {})) runtime.setUnknown(k, inst.depends);
      if (inst.item) plan.item = { index: inst.item.index, label: inst.item.label };
      if (task.loop && !inst.depends) plan.loopItems = instances.map((i) => i.item?.value);
      walk.prepared.push(inst.prepared);
      walk.tasks.push(plan);
      if (!walk.changer && (plan.outcome === 'change' || plan.outcome === 'may-change') && inst.kind !== 'set_fact') walk.changer = task.name;
      results.push(result);
      if (plan.outcome === 'error' && !task.ignore_errors) stop = true;
    }
    register(task, instances, results, runtime);
    // run_once on another host: this host takes what that host registers, known only once it ran there.
    if (task.run_once && input.runOnceElsewhere && task.register && !instances.every((i) => i.notSelected))
      runtime.setUnknown(task.register, `"${task.name}" (run once, on ${input.runOnceElsewhere})`);
    // As Ansible, a failed task ends the host: what follows would be planned from a failure.
    if (stop) break;
  }
  return walk;
}

const dependsOn = (why: string) => (why === PENDING ? 'not probed' : `depends on ${why}`);

function planInstance(input: WalkInput, inst: Instance, knowledge: Knowledge, walk: Walk): { plan: TaskPlan; result: Registered | { unknown: string } } {
  const { task, prepared } = inst;
  const base = { index: inst.index, task, args: prepared.args, secretValues: prepared.secretValues };
  const ctx = taskContext(input.ctx, task);
  if (prepared.skip) return { plan: { ...base, outcome: 'skipped', changes: [], reason: prepared.skip }, result: skippedResult(task.when) };
  // Issue 15: debug, assert and fail change nothing either: what they print is known after apply.
  if (inst.depends && controlModule(task))
    return { plan: { ...base, outcome: 'ok', changes: [], message: `known after apply (${dependsOn(inst.depends)})` }, result: { unknown: inst.depends } };
  // set_fact changes nothing on the host: its values are unknown, the host is not.
  if (inst.depends)
    return { plan: { ...base, outcome: inst.kind === 'set_fact' ? 'ok' : 'may-change', changes: [], reason: dependsOn(inst.depends) }, result: { unknown: inst.depends } };
  // This task's own result is known only after it runs.
  const after = { unknown: `"${task.name}"` };
  const unknownWhen = inst.whenDepends ? { unknown: inst.whenDepends } : undefined;
  if (inst.kind === 'set_fact') {
    return { plan: { ...base, outcome: 'ok', changes: [], probed: { known: true, state: {} } }, result: unknownWhen ?? okResult(false) };
  }
  if (inst.kind === 'read') {
    const out = knowledge.reads.get(readKey(inst, commandOf(prepared, ctx)?.command ?? ''));
    if (!out) {
      walk.needReads.push(inst);
      return { plan: { ...base, outcome: 'may-change', changes: [], reason: 'not probed' }, result: { unknown: PENDING } };
    }
    const run = commandOf(prepared, ctx);
    const judged = judge(task, inst.scope, commandResult(out, run?.shown ?? task.name));
    if (inst.secret) hideResult(judged, inst.scope);
    const probed = { known: true as const, state: { output: outputDigest(out), ...(inst.secret ? { secretFields: ['output'] } : {}) } };
    if (walk.changer) {
      // It read the host as it is before the earlier change: apply runs it again, and what it registers is known only then.
      const stale = { unknown: `"${task.name}" (it runs again after "${walk.changer}" changes the host)` };
      if (judged.failed && !task.ignore_errors) {
        return {
          plan: { ...base, outcome: 'may-change', changes: [], reason: `fails before "${walk.changer}" changes the host (exit ${String(judged.rc)}); runs again at apply` },
          result: stale,
        };
      }
      if (!judged.changed) return { plan: { ...base, outcome: 'ok', changes: [], probed }, result: stale };
    }
    if (judged.failed && !task.ignore_errors && !inst.whenDepends) {
      const tail = ctx.redact(
        String(judged.stderr || judged.stdout)
          .split('\n')
          .slice(-3)
          .join(' | '),
      );
      const reason = `plan ran it (it only reads the host) and it failed: exit ${String(judged.rc)}${tail ? `: ${tail}` : ''}`;
      return { plan: { ...base, outcome: 'error', changes: [], reason, probed }, result: judged };
    }
    if (judged.changed) {
      const plan = input.planFrom(prepared, {}, ctx);
      return { plan: { ...plan, ...(inst.whenDepends ? { outcome: 'may-change', reason: dependsOn(inst.whenDepends) } : {}) }, result: unknownWhen ?? judged };
    }
    return { plan: { ...base, outcome: 'ok', changes: [], probed }, result: unknownWhen ?? judged };
  }
  let facts = knowledge.facts.get(factKey(inst, ctx));
  if (!facts && Object.keys(factRefs(prepared.module, prepared.args, ctx)).length === 0) facts = {};
  if (!facts) {
    walk.needFacts.push(inst);
    return { plan: { ...base, outcome: 'may-change', changes: [], reason: 'not probed' }, result: { unknown: PENDING } };
  }
  const plan = input.planFrom(prepared, facts, ctx);
  if (inst.whenDepends && plan.outcome === 'change') {
    // Whether it runs is known only later; what it would change is shown all the same.
    return { plan: { ...plan, outcome: 'may-change', reason: dependsOn(inst.whenDepends) }, result: unknownWhen! };
  }
  if (task.until !== undefined && plan.outcome === 'change') plan.reason = `may retry: up to ${task.retries} times, ${task.delay} s apart, until ${task.until}`;
  if (unknownWhen) return { plan, result: unknownWhen };
  // Issue 15: a control module that fails (assert, fail) registers its failure, known now (ignore_errors lets later tasks read it).
  if (plan.outcome === 'error' && plan.registered && controlModule(task)) return { plan, result: { ...plan.registered, changed: false, failed: true } };
  if (plan.outcome !== 'ok') return { plan, result: after };
  // Issue 15: what a module such as stat read is stale once an earlier task changes the host; apply reads it again.
  if (plan.registered && walk.changer) return { plan, result: { unknown: `"${task.name}" (it reads again after "${walk.changer}" changes the host)` } };
  try {
    return { plan, result: judge(task, inst.scope, { ...okResult(false), ...plan.registered }) };
  } catch {
    return { plan, result: after };
  }
}

/** Issue 15: debug, assert, fail: decided from variables alone (Module.control). */
function controlModule(task: Task): boolean {
  return hasModule(task) && modules[task.module as keyof typeof modules].control === true;
}

/** Whether a play needs the walk at all: no loop, register or set_fact means the plan is made as before. */
export function isDynamic(play: Play): boolean {
  return play.tasks.some((t) => t.loop !== undefined || t.register !== undefined || t.module === 'set_fact' || t.failed_when !== undefined || t.until !== undefined || readOnly(t));
}

/** What apply needs of the run-time half: re-expanding each task with what really ran. */
export interface ApplyOps {
  dirty(): boolean;
  /** Run a module instance as the applier does; `decide` judges what its steps produced. */
  runOne(
    prepared: PreparedTask,
    initial: TaskPlan | undefined,
    decide: (
      out: { code: number | null; stdout: string; stderr: string } | undefined,
      /** Issue 15: the steps were a wait (pause, wait_for), and what the module registers. */
      how: { waited: boolean; registered?: Record<string, unknown> },
    ) => { changed: boolean; failed?: string },
  ): Promise<TaskResult>;
  /** Run a read-only command now (after a change, plan's output may be stale). */
  exec(command: string, task: Task): Promise<ProbeOutput>;
  sleep(seconds: number): Promise<void>;
}

/** Apply's side: instances expanded with what really ran; plan-time results reused while nothing changed. */
export class ApplyRuntime {
  private readonly runtime = new Runtime();
  private readonly planned = new Map<string, { prepared: PreparedTask; plan: TaskPlan }>();
  private results: Array<Registered | { unknown: string }> = [];

  constructor(
    private readonly play: Play,
    private readonly scope: HostScope,
    private readonly ctx: ModuleContext,
    planned: { prepared: PreparedTask[]; tasks: TaskPlan[]; knowledge?: Knowledge },
  ) {
    planned.prepared.forEach((p, i) => this.planned.set(instanceKey(p.index, p.item?.index), { prepared: p, plan: planned.tasks[i] }));
    this.knowledge = planned.knowledge;
  }

  private readonly knowledge?: Knowledge;

  expand(task: Task, index: number): Instance[] {
    this.results = [];
    // --tags already chose at plan time: a task the plan skipped for tags stays skipped.
    const plan = this.planned.get(instanceKey(index)) ?? this.planned.get(instanceKey(index, 0));
    const notSelected = plan?.prepared.skip === 'not selected by --tags/--skip-tags';
    return expandTask(task, index, this.scope, this.runtime, notSelected ? { tags: ['never-selected'], skipTags: ['all'] } : undefined);
  }

  /** The plan's view of the same instance, when it was made from the same arguments. */
  private initial(inst: Instance): TaskPlan | undefined {
    const p = this.planned.get(inst.key);
    if (!p || canonicalJson(p.prepared.args) !== canonicalJson(inst.prepared.args)) return undefined;
    // Issue 15: the same arguments whose bare expressions now read other values (debug's var) are another task.
    if (canonicalJson(p.prepared.expressions ?? null) !== canonicalJson(inst.prepared.expressions ?? null)) return undefined;
    return p.plan;
  }

  async run(inst: Instance, ops: ApplyOps): Promise<TaskResult> {
    const { task } = inst;
    const name = task.name;
    if (inst.prepared.skip) {
      this.results.push(skippedResult(task.when));
      return { name, status: 'skipped', changes: [] };
    }
    if (inst.depends) throw new Error(`depends on ${inst.depends}, which is still unknown`);
    if (inst.kind === 'set_fact') {
      setFacts(inst, this.runtime);
      this.results.push(okResult(false));
      return { name, status: 'ok', changes: [] };
    }
    const before = this.results.length;
    try {
      return await (inst.kind === 'read' ? this.runRead(inst, ops) : this.runModule(inst, ops));
    } catch (e) {
      // A failure is still registered (ignore_errors lets later tasks read it).
      if (this.results.length === before) this.results.push({ changed: false, failed: true, msg: this.scope.redactor.redact(e instanceof Error ? e.message : String(e)) });
      throw e;
    }
  }

  private async runRead(inst: Instance, ops: ApplyOps): Promise<TaskResult> {
    const { task } = inst;
    const ctx = taskContext(this.ctx, task);
    const run = commandOf(inst.prepared, ctx);
    if (!run) throw new Error(`task "${task.name}": no command to run`);
    const known = !ops.dirty() && this.initial(inst) ? this.knowledge?.reads.get(readKey(inst, run.command)) : undefined;
    const out = known ?? (await ops.exec(run.command, task));
    const judged = judge(task, inst.scope, commandResult(out, run.shown));
    if (inst.secret) hideResult(judged, inst.scope);
    this.results.push(judged);
    if (judged.failed) return { name: task.name, status: 'failed', changes: [], error: ctx.redact(failure(run.shown, judged)) };
    return { name: task.name, status: judged.changed ? 'changed' : 'ok', changes: [] };
  }

  private async runModule(inst: Instance, ops: ApplyOps): Promise<TaskResult> {
    const { task } = inst;
    const ctx = taskContext(this.ctx, task);
    const command = task.module === 'command' || task.module === 'shell' ? commandOf(inst.prepared, ctx) : undefined;
    let initial = this.initial(inst);
    for (let attempt = 1; ; attempt++) {
      let judged: Registered | undefined;
      const result = await ops.runOne(inst.prepared, initial, (out, how) => {
        judged = judge(task, inst.scope, out && command ? commandResult(out, command.shown) : { ...okResult(!how.waited), ...how.registered });
        if (inst.secret) hideResult(judged, inst.scope);
        return { changed: judged.changed, ...(judged.failed ? { failed: ctx.redact(failure(command?.shown ?? task.name, judged)) } : {}) };
      });
      if (!judged) {
        judged =
          result.status === 'failed'
            ? { msg: result.error ?? '', ...result.registered, changed: false, failed: true }
            : result.status === 'skipped'
              ? skippedResult(undefined)
              : judge(task, inst.scope, { ...okResult(false), ...result.registered });
        if (result.status === 'ok' && judged.failed) {
          this.results.push(judged);
          return { ...result, status: 'failed', error: 'failed_when is true' };
        }
      }
      if (attempt > (task.retries ?? 0) || untilHolds(task, inst.scope, judged)) {
        if (task.until !== undefined) judged.attempts = attempt;
        this.results.push(judged);
        if (task.until !== undefined && !untilHolds(task, inst.scope, judged))
          return { ...result, status: 'failed', error: `until (${task.until}) still false after ${attempt} attempts` };
        return result;
      }
      await ops.sleep(task.delay ?? 0);
      initial = undefined; // read the host again before the next attempt
    }
  }

  /** After all instances of `task` ran: its registered value. */
  finish(task: Task, instances: Instance[]): void {
    if (this.results.length < instances.length) return; // the host stopped part way
    register(task, instances, this.results, this.runtime);
  }

  /** run_once: what `task` registered on this host (the one that ran it), for the other hosts of the batch. */
  registered(task: Task): { value: unknown; secret: boolean } | undefined {
    return task.register ? this.runtime.get(task.register) : undefined;
  }

  /** run_once: another host of the batch ran `task`; this host registers what it registered, as Ansible does. */
  adopt(task: Task, registered: { value: unknown; secret: boolean } | undefined): void {
    if (!task.register || !registered) return;
    // A secret result stays hidden in this host's output too.
    if (registered.secret && registered.value && typeof registered.value === 'object') hideResult(registered.value as Registered, this.scope);
    this.runtime.set(task.register, registered.value, registered.secret);
  }

  /** A loop's pause between items. */
  pause(task: Task): number {
    return task.loop?.pause ?? 0;
  }
}

function failure(shown: string, r: Registered): string {
  if (r.failed_when_result === true) return `${shown}: failed_when is true`;
  const tail = String(r.stderr || r.stdout || r.msg || '')
    .trim()
    .split('\n')
    .slice(-3)
    .join(' | ');
  return `${shown}: exited ${String(r.rc)}${tail ? `: ${tail}` : ''}`;
}
