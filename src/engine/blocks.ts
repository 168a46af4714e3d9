/**
 * A play's flat task list back in the shape the applier walks: play sections (handlers flush
 * after each), and blocks with their rescue and always parts, rebuilt from the chain of blocks
 * each task carries (src/config/blocks.ts). The walk is Ansible's: a failure in a block's tasks
 * stops them and runs its rescue (the failure is then rescued, no longer the host's); always runs
 * whatever happened; an unrescued failure goes on up as the failure of the enclosing part.
 */
import type { Block, Task } from '../config/model.js';

export type Item<T> = { kind: 'task'; task: T } | { kind: 'block'; block: Block; tasks: Item<T>[]; rescue: Item<T>[]; always: Item<T>[] };

/** How a walk ended: `end` stops the host without failing it (meta: end_host, end_play) or after another host's fatal failure. */
export type WalkEnd = 'ok' | 'failed' | 'end';

/** Consecutive tasks of one play section (pre_tasks; roles and tasks; post_tasks). */
export function phasesOf<T extends { task: Task }>(tasks: T[]): T[][] {
  const out: T[][] = [];
  let last: string | undefined | null = null;
  for (const t of tasks) {
    const phase = t.task.phase ?? 'tasks';
    if (phase !== last) out.push([]);
    out[out.length - 1].push(t);
    last = phase;
  }
  return out;
}

/** The tree of one section: tasks outside blocks as they are, each block's tasks grouped under it. */
export function taskTree<T extends { task: Task }>(tasks: T[], depth = 0): Item<T>[] {
  const out: Item<T>[] = [];
  let i = 0;
  while (i < tasks.length) {
    const frame = tasks[i].task.blocks?.[depth];
    if (!frame) {
      out.push({ kind: 'task', task: tasks[i++] });
      continue;
    }
    const group: T[] = [];
    while (i < tasks.length && tasks[i].task.blocks?.[depth]?.block.id === frame.block.id) group.push(tasks[i++]);
    const part = (section: string) =>
      taskTree(
        group.filter((t) => t.task.blocks![depth].section === section),
        depth + 1,
      );
    out.push({ kind: 'block', block: frame.block, tasks: part('block'), rescue: part('rescue'), always: part('always') });
  }
  return out;
}

export interface BlockWalker<T> {
  /** Run one task; `rescuable` says an enclosing block would rescue its failure. */
  task(task: T, rescuable: boolean): Promise<WalkEnd>;
  /** A block's tasks failed and its rescue starts: the failures so far are rescued. */
  rescued(block: Block): void;
}

export async function walk<T>(items: Item<T>[], w: BlockWalker<T>, rescuable = false): Promise<WalkEnd> {
  for (const item of items) {
    const end = item.kind === 'task' ? await w.task(item.task, rescuable) : await walkBlock(item, w, rescuable);
    if (end !== 'ok') return end;
  }
  return 'ok';
}

async function walkBlock<T>(b: Extract<Item<T>, { kind: 'block' }>, w: BlockWalker<T>, rescuable: boolean): Promise<WalkEnd> {
  let end = await walk(b.tasks, w, rescuable || b.rescue.length > 0);
  if (end === 'end') return end;
  if (end === 'failed' && b.rescue.length > 0) {
    w.rescued(b.block);
    end = await walk(b.rescue, w, rescuable);
    if (end === 'end') return end;
  }
  const always = await walk(b.always, w, rescuable);
  if (always === 'end') return always;
  return end === 'failed' || always === 'failed' ? 'failed' : 'ok';
}

/** The innermost rescue a task is in, if any: it runs only when a task of that block fails. */
export function rescueOf(task: Task): Block | undefined {
  return [...(task.blocks ?? [])].reverse().find((f) => f.section === 'rescue')?.block;
}

/** Whether a planned task counts as a change to come: a rescue task only may run, so it does not; nor does a wait (issue 15). */
export function countsAsChange(t: { outcome: string; runsIf?: string; changes?: Array<{ wait?: boolean }> }): boolean {
  return !t.runsIf && (t.outcome === 'change' || t.outcome === 'may-change') && !waitsOnly(t);
}

/** Issue 15: a task whose only "changes" are waits (pause, wait_for): its steps run at apply, yet it changes nothing. */
export function waitsOnly(t: { outcome: string; changes?: Array<{ wait?: boolean }> }): boolean {
  return t.outcome === 'change' && (t.changes?.length ?? 0) > 0 && t.changes!.every((c) => c.wait === true);
}
