/**
 * Plan-time handling of the keywords that decide where and whether a task runs: `delegate_to:
 * localhost` (probed on the control machine, read-only), `run_once` (planned on the batch's first
 * host only), a block's rescue (runs only if the block fails), `meta: end_host` / `end_play` (the
 * tasks after it do not run on this host).
 */
import { blockLabel } from '../config/blocks.js';
import type { ModuleContext } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import { LocalTransport } from '../transport/local.js';
import { rescueOf } from './blocks.js';
import type { PreparedTask } from './prepare.js';
import { probeTasks, type Become, type TaskFacts } from './probe.js';
import type { TaskPlan } from './types.js';

/** The control machine as a transport, for delegated tasks. */
export function controllerTransport(commandTimeoutMs: number, env?: NodeJS.ProcessEnv): Transport {
  return new LocalTransport('localhost', commandTimeoutMs, () => Promise.resolve(undefined), env);
}

/** The facts of the delegated tasks, read on the control machine. */
export async function probeDelegated(
  local: Transport | undefined,
  prepared: PreparedTask[],
  ctx: ModuleContext,
  becomeOf: (t: PreparedTask) => Become,
  timeoutMs?: number,
): Promise<Map<number, TaskFacts>> {
  const delegated = prepared.filter((t) => t.task.delegate_to && !t.skip);
  if (!delegated.length) return new Map();
  const transport = local ?? controllerTransport(timeoutMs ?? 0);
  try {
    return (await probeTasks(transport, delegated, ctx, becomeOf, [], timeoutMs)).facts;
  } finally {
    if (!local) await transport.close();
  }
}

/**
 * The blocks that cannot fail at apply: every task of theirs is planned ok or skipped, and nothing
 * before them changes the host (apply then reuses what plan read instead of reading again).
 */
function blocksThatHold(tasks: TaskPlan[]): Set<number> {
  const holds = new Set<number>();
  const broken = new Set<number>();
  let changedBefore = false;
  for (const t of tasks) {
    for (const f of t.task.blocks ?? []) {
      if (f.section !== 'block') continue;
      if (!holds.has(f.block.id) && !broken.has(f.block.id)) (changedBefore ? broken : holds).add(f.block.id);
      if (t.outcome !== 'ok' && t.outcome !== 'skipped') {
        holds.delete(f.block.id);
        broken.add(f.block.id);
      }
    }
    if (t.outcome === 'change' || t.outcome === 'may-change' || t.outcome === 'error') changedBefore = true;
  }
  return holds;
}

/** What a task's place says about whether it runs on this host, written on its plan. */
export function markBlockPlans(tasks: TaskPlan[], host: string, runOnceHost: string | undefined): TaskPlan[] {
  let endedAt: string | undefined;
  const holding = blocksThatHold(tasks);
  return tasks.map((t) => {
    if (endedAt) return { ...t, outcome: 'skipped', changes: [], reason: `the host ends at "${endedAt}"`, steps: undefined };
    if (t.task.run_once && runOnceHost && runOnceHost !== host && !t.task.meta) {
      return { ...t, outcome: 'skipped', changes: [], reason: `run_once: runs on ${runOnceHost} only`, steps: undefined };
    }
    const rescue = rescueOf(t.task);
    if (rescue && holding.has(rescue.id)) {
      return {
        ...t,
        outcome: 'skipped',
        changes: [],
        reason: `rescue: no task of ${blockLabel(rescue)} fails (plan read them all, nothing before them changes)`,
        steps: undefined,
      };
    }
    if (rescue) return { ...t, runsIf: `a task of ${blockLabel(rescue)} fails` };
    if ((t.task.meta === 'end_host' || t.task.meta === 'end_play') && t.outcome !== 'skipped') endedAt = t.task.name;
    return t;
  });
}
