/**
 * Runs the probes of many tasks on one host in as few round trips as
 * possible: one script per distinct `become` setting (usually exactly one).
 */
import type { ModuleContext, Probed } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import { buildProbeScript, splitProbeOutput } from './probe-script.js';
import type { PreparedTask } from './prepare.js';

export type Become = boolean | string;

/** A raw snippet that is not a module task (e.g. reading pending handler notifications). */
export interface ExtraProbe {
  snippet: string;
  become: Become;
}

export interface ProbeBatchResult {
  probed: Map<number, Probed<unknown>>;
  extra: string[];
}

export class ProbeError extends Error {}

export async function probeTasks(
  transport: Transport,
  tasks: PreparedTask[],
  ctx: ModuleContext,
  becomeOf: (t: PreparedTask) => Become,
  extras: ExtraProbe[] = [],
  timeoutMs?: number,
): Promise<ProbeBatchResult> {
  type Item = { snippet: string; become: Become; task?: PreparedTask; extra?: number };
  const items: Item[] = [
    ...extras.map((e, i) => ({ snippet: e.snippet, become: e.become, extra: i })),
    ...tasks.filter((t) => !t.skip).map((t) => ({ snippet: t.module.probe(t.args, ctx), become: becomeOf(t), task: t })),
  ];
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const key = JSON.stringify(item.become);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const probed = new Map<number, Probed<unknown>>();
  const extra: string[] = [];
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const script = buildProbeScript(group.map((g) => g.snippet));
      const result = await transport.exec(script.script, { become: group[0].become, timeoutMs, label: 'probes' });
      if (result.code !== 0) {
        throw new ProbeError(`probe script exited ${result.code ?? result.signal}: ${ctx.redact(result.stderr.trim().split('\n').slice(-3).join(' '))}`);
      }
      const outputs = splitProbeOutput(script, result.stdout);
      group.forEach((item, i) => {
        if (item.task) {
          try {
            probed.set(item.task.index, item.task.module.parse(item.task.args, outputs[i], ctx));
          } catch (e) {
            probed.set(item.task.index, { known: false, reason: `could not read the current state: ${ctx.redact((e as Error).message)}` });
          }
        } else if (item.extra !== undefined) {
          extra[item.extra] = outputs[i].stdout;
        }
      });
    }),
  );
  return { probed, extra };
}
