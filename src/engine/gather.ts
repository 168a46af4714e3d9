/**
 * Facts in the plan (issue 13), at no extra round trip when the probes do not
 * depend on them. A play that reads facts (src/config/fact-usage.ts) is
 * prepared twice before anything is sent: with two stand-in fact sets that
 * differ in every host-specific value. A task whose probe (its facts' keys),
 * selection or preparation is the same under both does not depend on fact
 * values (postconf reads the key `myhostname` whatever value it wants): its
 * probe goes into the one batched script beside the fact snippet. Once the real
 * facts are back every task is prepared again with them, and a task whose
 * probe turned out different (a path built from `ansible_hostname`, or a guess
 * that did not hold) is probed in one more round trip. So a play costs one
 * round trip unless a probe depends on a fact value, then two; never more
 * (a fact module's task whose own arguments depend on facts adds one).
 */
import type { FactUsage } from '../config/fact-usage.js';
import { withFacts, type HostScope } from '../config/hostvars.js';
import type { Play } from '../config/model.js';
import { factsInSubsets, hostFacts, standInFacts, subsetsOf, type HostFacts } from '../facts/host-facts.js';
import { parseOf, type FactRef } from '../facts/types.js';
import { fact } from '../facts/types.js';
import { factRefs } from '../modules/contract.js';
import type { ModuleContext } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import { taskContext } from './context.js';
import { prepareTask, type PreparedTask, type TagFilter } from './prepare.js';
import { factRefresh, type FactRefresh } from './fact-refresh.js';
import { ProbeError, probeTasks, type Become, type ExtraProbe, type TaskFacts } from './probe.js';

export interface GatherInput {
  transport: Transport;
  play: Play;
  scope: HostScope;
  usage: FactUsage;
  filter: TagFilter;
  becomeOf: (t: PreparedTask) => Become;
  playBecome: Become;
  extras: ExtraProbe[];
  contextOf: (scope: HostScope) => ModuleContext;
  timeoutMs?: number;
}

export interface Gathered {
  prepared: PreparedTask[];
  facts: Map<number, TaskFacts>;
  extra: string[];
  /** The host's scope and context with every fact the play set: what apply and handlers see. */
  scope: HostScope;
  ctx: ModuleContext;
  /** The facts each fact module set, by task index (for tasks that read them after a change). */
  setNames: Map<number, string[]>;
  /** Apply's view: fact modules read again after a change give the later tasks new values. */
  refresh: FactRefresh;
}

/** What a task's probe is: where it runs and which facts it reads. */
function probeIdentity(t: PreparedTask, ctx: ModuleContext, become: Become): string {
  if (t.skip) return 'skipped';
  const refs = factRefs(t.module, t.args, taskContext(ctx, t.task));
  return JSON.stringify([become, Object.entries(refs).map(([name, r]) => [name, r.key])]);
}

function tryPrepare(input: GatherInput, i: number, scope: HostScope, ctx: ModuleContext): { task: PreparedTask; identity: string } | undefined {
  try {
    const task = prepareTask(input.play.tasks[i], i, scope, input.filter);
    return { task, identity: probeIdentity(task, ctx, input.becomeOf(task)) };
  } catch {
    return undefined;
  }
}

export const hostFactsRef: FactRef<HostFacts> = fact(hostFacts, {});

/** The fact snippet, as one extra probe of a batch. */
export function factSnippet(): string {
  return hostFacts.probe({});
}

/** The facts `play` sees (its gather_subset), from what the fact snippet printed. */
export function gatheredFacts(play: Play, output: string): HostFacts {
  const read = parseOf(hostFactsRef, { stdout: output, stderr: '', code: 0 });
  if (!read.known) throw new ProbeError(`could not gather facts: ${read.reason}`);
  return factsInSubsets(read.state, subsetsOf(play.gather_subset));
}

export async function prepareWithFacts(input: GatherInput): Promise<Gathered> {
  const { play, scope, usage } = input;
  // 1. Which probes do not depend on fact values.
  const standIns = [0, 1].map((v) => withFacts(scope, standInFacts(v)));
  const standInCtx = standIns.map((s) => input.contextOf(s));
  const early = new Map<number, { task: PreparedTask; identity: string }>();
  play.tasks.forEach((_, i) => {
    const [a, b] = [0, 1].map((v) => tryPrepare(input, i, standIns[v], standInCtx[v]));
    if (a && b && a.identity === b.identity) early.set(i, a);
  });

  // 2. One round trip: the fact snippet, the play's extras, the independent probes.
  const gatherIndex = input.extras.length;
  const extras = usage.gather ? [...input.extras, { snippet: factSnippet(), become: input.playBecome }] : input.extras;
  // Delegated tasks (delegate_to: localhost) are probed on the controller by the planner, not here.
  const firstTasks = [...early.values()].map((e) => e.task).filter((t) => !t.skip && !t.task.delegate_to);
  const first = await probeTasks(input.transport, firstTasks, standInCtx[0], input.becomeOf, extras, input.timeoutMs);
  let current: HostFacts = usage.gather ? gatheredFacts(play, first.extra[gatherIndex] ?? '') : {};

  // 3. Every task again with the real facts, in order: a fact module's facts reach the tasks after it.
  const gathered = current;
  const setNames = new Map<number, string[]>();
  const after = new Map<number, HostFacts>();
  let real = withFacts(scope, current);
  let ctx = input.contextOf(real);
  const prepared: PreparedTask[] = [];
  const facts = new Map<number, TaskFacts>();
  const late: PreparedTask[] = [];
  for (let i = 0; i < play.tasks.length; i++) {
    const t = prepareTask(play.tasks[i], i, real, input.filter);
    prepared.push(t);
    if (t.skip) continue;
    const guess = early.get(i);
    const known = guess && guess.identity === probeIdentity(t, ctx, input.becomeOf(t)) ? first.facts.get(i) : undefined;
    if (known) facts.set(i, known);
    if (!t.module.setsFacts) {
      if (!known && !t.task.delegate_to) late.push(t);
      continue;
    }
    // A fact module whose own probe depended on facts: read now, the tasks after it need its values.
    const values = known ?? (await probeTasks(input.transport, [t], ctx, input.becomeOf, [], input.timeoutMs)).facts.get(i)!;
    facts.set(i, values);
    const unknown = Object.values(values).find((p) => !p.known);
    if (unknown && !unknown.known) throw new ProbeError(`task "${t.task.name}": ${unknown.reason}`);
    // Nested dictionaries (services, packages) replace, as Ansible's do.
    const set = t.module.setsFacts(t.args, values as never);
    setNames.set(i, Object.keys(set));
    current = { ...current, ...set };
    after.set(i, current);
    real = withFacts(scope, current);
    ctx = input.contextOf(real);
  }

  // 4. The probes that depend on fact values: one more round trip, only when there are any.
  if (late.length) {
    const second = await probeTasks(input.transport, late, ctx, input.becomeOf, [], input.timeoutMs);
    for (const [i, f] of second.facts) facts.set(i, f);
  }
  const refresh = factRefresh(scope, gathered, after, facts, input.contextOf);
  return { prepared, facts, extra: first.extra.slice(0, input.extras.length), scope: real, ctx, setNames, refresh };
}
