/** One line per event, no cursor movement: for CI logs, pipes and NO_COLOR terminals. */
import type { HostPlan, HostResult, Reporter, TaskResult } from '../engine/types.js';
import { countsAsChange } from '../engine/blocks.js';
import { escapeControl } from './escape.js';

/** Host names, task names, summaries and errors: escaped, and kept to the event's one line. */
const f = (text: string) => escapeControl(text, { oneLine: true });

export class PlainReporter implements Reporter {
  constructor(
    private readonly mode: 'plan' | 'apply',
    private readonly write: (line: string) => void,
  ) {}

  playStart(name: string, hosts: string[]): void {
    this.write(`PLAY ${f(name)} (${hosts.length} host${hosts.length === 1 ? '' : 's'})`);
  }
  hostActivity(): void {}
  hostPlanned(plan: HostPlan): void {
    if (plan.status === 'planned') {
      const changes = plan.tasks.filter(countsAsChange).length;
      this.write(`${f(plan.host)}: probed, ${changes} task${changes === 1 ? '' : 's'} to change`);
    }
  }
  taskDone(host: string, r: TaskResult): void {
    const label = f(r.handler ? `handler ${r.name}` : r.name);
    const who = f(host);
    if (r.status === 'failed') {
      this.write(`${who}: ${r.ignored ? 'failed (ignored)' : 'FAILED'} ${label}: ${f(r.error ?? '')}`);
    } else if (r.status === 'changed') {
      this.write(`${who}: changed ${label}${r.changes.length ? ': ' + r.changes.map((c) => f(c.summary)).join('; ') : ''}`);
    } else {
      this.write(`${who}: ${r.status} ${label}`);
    }
  }
  hostDone(r: HostResult): void {
    if (this.mode === 'plan' && (r.status === 'ok' || r.status === 'changed')) {
      this.write(`${f(r.host)}: ${r.changed ? `${r.changed} to change` : 'no changes'} (${r.seconds.toFixed(2)} s)`);
      return;
    }
    const detail = r.status === 'unreachable' || r.status === 'refused' || r.status === 'interrupted' || (r.status === 'failed' && r.error) ? `: ${f(r.error ?? '')}` : '';
    this.write(`${f(r.host)}: ${r.status.toUpperCase()}${detail} (ok=${r.ok} changed=${r.changed} ${r.seconds.toFixed(2)} s)`);
  }
  notice(message: string): void {
    this.write(escapeControl(message));
  }
  async close(): Promise<void> {}
}
