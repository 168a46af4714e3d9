/**
 * One line per event, no cursor movement: for CI logs, pipes and NO_COLOR terminals.
 * A play on more than MANY_HOSTS hosts is condensed so the log stays readable and
 * bounded: no per-task or per-host success lines, a progress line at each tenth of
 * the hosts done, and one line for each failure (a failed task, an unreachable,
 * failed or refused host). What changed is printed grouped at the end (CHANGES).
 */
import type { HostPlan, HostResult, Reporter, TaskResult } from '../engine/types.js';
import { countsAsChange } from '../engine/blocks.js';
import { escapeControl } from './escape.js';

/** Host names, task names, summaries and errors: escaped, and kept to the event's one line. */
const f = (text: string) => escapeControl(text, { oneLine: true });

/** Above this many hosts in a play, progress is a summary (here and on a terminal), not a line or row per host. */
export const MANY_HOSTS = 20;

/** Progress of a condensed play. */
interface Tally {
  name: string;
  total: number;
  done: number;
  changed: number;
  failed: number;
  /** The last tenth reported. */
  shown: number;
}

export class PlainReporter implements Reporter {
  constructor(
    private readonly mode: 'plan' | 'apply',
    private readonly write: (line: string) => void,
  ) {}

  private tally?: Tally;

  playStart(name: string, hosts: string[]): void {
    this.write(`PLAY ${f(name)} (${hosts.length} host${hosts.length === 1 ? '' : 's'})`);
    this.tally = hosts.length > MANY_HOSTS ? { name, total: hosts.length, done: 0, changed: 0, failed: 0, shown: 0 } : undefined;
  }
  hostActivity(): void {}
  hostPlanned(plan: HostPlan): void {
    if (this.tally) return;
    if (plan.status === 'planned') {
      const changes = plan.tasks.filter(countsAsChange).length;
      this.write(`${f(plan.host)}: probed, ${changes} task${changes === 1 ? '' : 's'} to change`);
    }
  }
  taskDone(host: string, r: TaskResult): void {
    if (this.tally && (r.status !== 'failed' || r.ignored)) return;
    const label = f(r.handler ? `handler ${r.name}` : r.name);
    const who = f(host);
    if (r.status === 'failed') {
      this.write(`${who}: ${r.ignored ? 'failed (ignored)' : 'FAILED'} ${label}: ${f(r.error ?? '')}`);
    } else if (r.status === 'changed') {
      this.write(`${who}: changed ${label}${r.changes.length ? ': ' + r.changes.map((c) => f(c.summary)).join('; ') : ''}`);
    } else {
      // Issue 15: what the task printed (debug, assert), on the task's line.
      this.write(`${who}: ${r.status} ${label}${r.message !== undefined ? `: ${f(r.message)}` : ''}`);
    }
  }
  hostDone(r: HostResult): void {
    if (this.tally) return this.progress(this.tally, r);
    if (this.mode === 'plan' && (r.status === 'ok' || r.status === 'changed')) {
      this.write(`${f(r.host)}: ${r.changed ? `${r.changed} to change` : 'no changes'} (${r.seconds.toFixed(2)} s)`);
      return;
    }
    const detail = r.status === 'unreachable' || r.status === 'refused' || r.status === 'interrupted' || (r.status === 'failed' && r.error) ? `: ${f(r.error ?? '')}` : '';
    this.write(`${f(r.host)}: ${r.status.toUpperCase()}${detail} (ok=${r.ok} changed=${r.changed} ${r.seconds.toFixed(2)} s)`);
  }
  private progress(t: Tally, r: HostResult): void {
    const bad = r.status !== 'ok' && r.status !== 'changed';
    if (bad) this.write(`${f(r.host)}: ${r.status.toUpperCase()}${r.error ? `: ${f(r.error)}` : ''}`);
    t.done++;
    if (r.status === 'changed') t.changed++;
    if (bad) t.failed++;
    const tenth = Math.floor((t.done * 10) / t.total);
    if (tenth === t.shown) return;
    t.shown = tenth;
    const changed = this.mode === 'plan' ? `${t.changed} with changes` : `${t.changed} changed`;
    this.write(`PLAY ${f(t.name)}: ${t.done}/${t.total} hosts done, ${changed}, ${t.failed} not ok`);
  }
  notice(message: string): void {
    this.write(escapeControl(message));
  }
  async close(): Promise<void> {}
}
