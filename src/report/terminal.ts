/**
 * Interactive terminal: a listr2 tree, one row per host showing what it is
 * doing now. Past MANY_HOSTS hosts the rows would not fit on a screen (listr2
 * then reprints whole frames), so one summary row shows counts instead,
 * redrawn at most every SUMMARY_EVERY_MS (2,000 hosts report ~10,000 events).
 */
import { Listr, ProcessOutput } from 'listr2';
import type { HostPlan, HostResult, Reporter, TaskResult } from '../engine/types.js';
import { escapeControl } from './escape.js';
import { MANY_HOSTS } from './plain.js';

/** Everything plumb hands listr2 is escaped; listr2 adds its own colours around it. */
const f = (text: string) => escapeControl(text, { oneLine: true });

const SUMMARY_EVERY_MS = 100;

/** Progress belongs on stderr (stdout carries plans and JSON); plumb handles Ctrl-C itself. */
const listrOptions = () => ({
  exitOnError: false,
  registerSignalListeners: false,
  fallbackRendererCondition: false,
  processOutput: new ProcessOutput(process.stderr, process.stderr),
});

interface Row {
  title: string;
  output: string;
  done: () => void;
  fail: (e: Error) => void;
  setTitle?: (t: string) => void;
  setOutput?: (o: string) => void;
}

export class TerminalReporter implements Reporter {
  /** `write` takes the notices (the command's stderr); the tree itself is drawn on the terminal. */
  constructor(private readonly write: (line: string) => void) {}

  private rows = new Map<string, Row>();
  private runs: Promise<unknown>[] = [];
  private summary?: { total: number; done: number; changed: number; failed: number; active: Map<string, string>; update: () => void; finish: () => void };

  playStart(name: string, hosts: string[]): void {
    if (hosts.length > MANY_HOSTS) {
      let finish = () => {};
      let update = () => {};
      let pending: NodeJS.Timeout | undefined;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const later = () => {
        pending ??= setTimeout(() => {
          pending = undefined;
          update();
        }, SUMMARY_EVERY_MS);
      };
      const state = {
        total: hosts.length,
        done: 0,
        changed: 0,
        failed: 0,
        active: new Map<string, string>(),
        update: later,
        finish: () => {
          clearTimeout(pending);
          finish();
        },
      };
      this.summary = state;
      const list = new Listr(
        [
          {
            title: `${f(name)}: 0/${hosts.length} hosts`,
            task: async (_ctx, task) => {
              update = () => {
                task.title = `${f(name)}: ${state.done}/${state.total} hosts done, ${state.changed} changed, ${state.failed} failed`;
                task.output = [...state.active]
                  .slice(0, 5)
                  .map(([h, a]) => `${f(h)}: ${f(a)}`)
                  .join(', ');
              };
              await finished;
              update();
            },
          },
        ],
        { ...listrOptions(), rendererOptions: { collapseSubtasks: false } },
      );
      this.runs.push(list.run().catch(() => undefined));
      return;
    }
    this.summary = undefined;
    const tasks = hosts.map((host) => {
      let done = () => {};
      let fail: (e: Error) => void = () => {};
      const finished = new Promise<void>((resolve, reject) => {
        done = resolve;
        fail = reject;
      });
      const row: Row = { title: f(host), output: '', done: () => done(), fail: (e) => fail(e) };
      this.rows.set(host, row);
      return {
        title: row.title,
        task: async (_ctx: unknown, task: { title: string; output: string }) => {
          row.setTitle = (t) => (task.title = t);
          row.setOutput = (o) => (task.output = o);
          row.setOutput(row.output);
          await finished;
        },
      };
    });
    const list = new Listr(tasks, { ...listrOptions(), concurrent: true, rendererOptions: { collapseErrors: false } });
    this.runs.push(list.run().catch(() => undefined));
    void name;
  }
  hostActivity(host: string, activity: string): void {
    if (this.summary) {
      this.summary.active.set(host, activity);
      this.summary.update();
      return;
    }
    const row = this.rows.get(host);
    if (!row) return;
    row.output = f(activity);
    row.setOutput?.(row.output);
  }
  hostPlanned(_plan: HostPlan): void {}
  taskDone(_host: string, _r: TaskResult): void {}
  hostDone(r: HostResult): void {
    if (this.summary) {
      this.summary.active.delete(r.host);
      this.summary.done++;
      if (r.status === 'changed') this.summary.changed++;
      if (r.status === 'failed' || r.status === 'unreachable' || r.status === 'refused') this.summary.failed++;
      this.summary.update();
      if (this.summary.done === this.summary.total) this.summary.finish();
      return;
    }
    const row = this.rows.get(r.host);
    if (!row) return;
    const text = `${f(r.host)}: ${r.status} (ok=${r.ok} changed=${r.changed}, ${r.seconds.toFixed(1)} s)`;
    row.setTitle?.(text);
    if (r.status === 'failed' || r.status === 'unreachable' || r.status === 'refused') row.fail(new Error(f(`${r.host}: ${r.error ?? r.status}`)));
    else row.done();
  }
  notice(message: string): void {
    this.write(escapeControl(message));
  }
  async close(): Promise<void> {
    this.summary?.finish();
    for (const row of this.rows.values()) row.done();
    await Promise.all(this.runs);
  }
}
