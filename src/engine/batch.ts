/**
 * What the hosts of one batch share while they apply: a task with `run_once` (and `meta:
 * end_play`, which Ansible decides on the batch's first host) runs on the first host of the batch
 * still running, and the others take its result; a failure under `any_errors_fatal` and an
 * `end_play` stop every host before its next task. plumb runs hosts independently, not in
 * Ansible's lock-step, so a host that is ahead may already have run later tasks.
 *
 * No deadlock: a host only ever waits for hosts before it in the batch, which started first.
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
  private readonly slots = new Map<string, Slot>();
  private readonly finished = new Set<string>();

  constructor(readonly hosts: string[]) {}

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
