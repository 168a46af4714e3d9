/**
 * What the hosts of one batch share while they apply: a task with `run_once` (and `meta:
 * end_play`, which Ansible decides on the batch's first host) runs on the first host of the batch
 * still running, and the others take its result; a failure under `any_errors_fatal` and an
 * `end_play` stop every host before its next task.
 *
 * plumb runs hosts independently; a play that uses any_errors_fatal or end_play runs in Ansible's
 * lock-step instead (no host starts a task before every other has finished the ones before it),
 * when every host of the batch runs at once (forks ≥ batch size): otherwise hosts waiting for a
 * fork would never arrive. Without lock-step a host that is ahead may already have run later tasks.
 *
 * No deadlock: at a run_once task a host only waits for hosts before it in the batch, which
 * started first; in lock-step the host furthest behind never waits.
 */
import type { TaskResult } from './types.js';

interface Ran {
  result: Promise<TaskResult>;
  host: string;
}

interface Slot {
  promise: Promise<Ran | undefined>;
  resolve(value: Ran | undefined): void;
  settled: boolean;
}

export class BatchState {
  /** Why the play stops for every host (a fatal failure); set once. */
  fatal?: string;
  /** A meta: end_play ran: every host ends the play (not a failure). */
  endPlay?: string;
  /** run_once: what the task at an index registered on the host that ran it (issue 13: the others take it). */
  readonly registered = new Map<number, { value: unknown; secret: boolean }>();
  private readonly slots = new Map<string, Slot>();
  private readonly finished = new Set<string>();
  /** Lock-step: the index of the task each host is about to start (it has finished all before). */
  private readonly progress = new Map<string, number>();
  private waiters: Array<() => void> = [];

  constructor(
    readonly hosts: string[],
    readonly lockstep = false,
  ) {}

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Lock-step: wait until every other host of the batch has finished the tasks before `index`, or is done. */
  async reach(host: string, index: number): Promise<void> {
    if (!this.lockstep) return;
    this.progress.set(host, index);
    this.wake();
    const behind = () => this.hosts.some((h) => h !== host && !this.finished.has(h) && (this.progress.get(h) ?? -1) < index);
    while (behind()) await new Promise<void>((r) => this.waiters.push(r));
  }

  private slot(index: number, host: string): Slot {
    const key = `${index}\0${host}`;
    let s = this.slots.get(key);
    if (!s) {
      let resolve!: (v: Ran | undefined) => void;
      const promise = new Promise<Ran | undefined>((r) => (resolve = r));
      const slot: Slot = { promise, settled: false, resolve: (v) => (slot.settled || ((slot.settled = true), resolve(v)), undefined) };
      s = slot;
      this.slots.set(key, s);
      if (this.finished.has(host)) s.resolve(undefined);
    }
    return s;
  }

  /** The host is done with the play (any way): hosts waiting for it at a run_once task go on without it. */
  hostFinished(host: string): void {
    this.finished.add(host);
    for (const [key, s] of this.slots) if (key.endsWith(`\0${host}`)) s.resolve(undefined);
    this.wake();
  }

  /**
   * Task `index` with run_once: the first host of the batch that reaches it runs it (`run`), in
   * batch order; a later host waits for the hosts before it and takes the result of the one that ran.
   */
  async runOnce(index: number, host: string, run: () => Promise<TaskResult>): Promise<{ result: TaskResult; ranOn?: string }> {
    const me = this.slot(index, host);
    for (const earlier of this.hosts.slice(0, Math.max(0, this.hosts.indexOf(host)))) {
      const ran = await this.slot(index, earlier).promise;
      if (!ran) continue;
      me.resolve(ran);
      return { result: await ran.result, ranOn: ran.host };
    }
    const result = run();
    // Hosts after this one take the result, even a failure to run it at all.
    me.resolve({
      host,
      result: result.catch((e: unknown) => ({ name: '', status: 'failed' as const, changes: [], error: e instanceof Error ? e.message : String(e) })),
    });
    return { result: await result };
  }
}
