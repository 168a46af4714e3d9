/**
 * Reads the facts of many tasks on one host in as few round trips as
 * possible: one script per distinct `become` setting (usually exactly one),
 * and each distinct fact once per setting however many tasks need it.
 */
import { type FactRef, parseOf, type Probed } from '../facts/types.js';
import { factRefs } from '../modules/contract.js';
import type { ModuleContext, ProbeOutput } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import { buildProbeScript, splitProbeOutput } from './probe-script.js';
import type { PreparedTask } from './prepare.js';
import { taskContext } from './context.js';

export type Become = boolean | string;

/** A raw snippet that is not a fact (e.g. reading pending handler notifications). */
export interface ExtraProbe {
  snippet: string;
  become: Become;
}

/** A task's facts, by the names its module gave them. */
export type TaskFacts = Record<string, Probed<unknown>>;

export interface ProbeBatchResult {
  facts: Map<number, TaskFacts>;
  extra: string[];
  /** Each extra snippet's whole output (a read-only command's rc and stderr too). */
  extraOutputs: ProbeOutput[];
}

export class ProbeError extends Error {}

type Item = { snippet: string; fact?: FactRef; extra?: number };

export async function probeTasks(
  transport: Transport,
  tasks: PreparedTask[],
  ctx: ModuleContext,
  becomeOf: (t: PreparedTask) => Become,
  extras: ExtraProbe[] = [],
  timeoutMs?: number,
): Promise<ProbeBatchResult> {
  // become setting → fact key → the fact, in first-asked order; extras first, as before.
  const groups = new Map<string, { become: Become; items: Map<string, Item> }>();
  const group = (become: Become) => {
    const key = JSON.stringify(become);
    if (!groups.has(key)) groups.set(key, { become, items: new Map() });
    return groups.get(key)!;
  };
  extras.forEach((e, i) => group(e.become).items.set(`extra ${i}`, { snippet: e.snippet, extra: i }));
  const asked = tasks
    .filter((t) => !t.skip)
    .map((t) => {
      const become = becomeOf(t);
      const refs = factRefs(t.module, t.args, taskContext(ctx, t.task));
      const items = group(become).items;
      for (const ref of Object.values(refs)) if (!items.has(ref.key)) items.set(ref.key, { snippet: ref.fact.probe(ref.params), fact: ref });
      return { task: t, become: JSON.stringify(become), refs };
    });

  const values = new Map<string, Probed<unknown>>();
  const extra: string[] = [];
  const extraOutputs: ProbeOutput[] = [];
  await Promise.all(
    [...groups.entries()].map(async ([key, { become, items }]) => {
      const list = [...items.values()];
      const script = buildProbeScript(list.map((item) => item.snippet));
      const result = await transport.exec(script.script, { become, timeoutMs, label: 'probes' });
      if (result.code !== 0) {
        throw new ProbeError(`probe script exited ${result.code ?? result.signal}: ${ctx.redact(result.stderr.trim().split('\n').slice(-3).join(' '))}`);
      }
      const outputs = splitProbeOutput(script, result.stdout);
      list.forEach((item, i) => {
        if (item.fact) values.set(`${key} ${item.fact.key}`, parseOf(item.fact, outputs[i]));
        else if (item.extra !== undefined) {
          extra[item.extra] = outputs[i].stdout;
          extraOutputs[item.extra] = outputs[i];
        }
      });
    }),
  );
  const facts = new Map<number, TaskFacts>();
  for (const { task, become, refs } of asked) {
    facts.set(task.index, Object.fromEntries(Object.entries(refs).map(([name, ref]) => [name, values.get(`${become} ${ref.key}`)!])));
  }
  return { facts, extra, extraOutputs };
}
