/** One line per event, no cursor movement: for CI logs, pipes and NO_COLOR terminals. */
import type { HostPlan, HostResult, TaskResult } from '../engine/types.js';
import type { Reporter } from './types.js';

export class PlainReporter implements Reporter {
  constructor(
    private readonly mode: 'plan' | 'apply',
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  playStart(name: string, hosts: string[]): void {
    this.write(`PLAY ${name} (${hosts.length} host${hosts.length === 1 ? '' : 's'})`);
  }
  hostActivity(): void {}
  hostPlanned(plan: HostPlan): void {
    if (plan.status === 'planned') {
      const changes = plan.tasks.filter((t) => t.outcome === 'change' || t.outcome === 'may-change').length;
      this.write(`${plan.host}: probed, ${changes} task${changes === 1 ? '' : 's'} to change`);
    }
  }
  taskDone(host: string, r: TaskResult): void {
    const label = r.handler ? `handler ${r.name}` : r.name;
    if (r.status === 'failed') {
      this.write(`${host}: ${r.ignored ? 'failed (ignored)' : 'FAILED'} ${label}: ${r.error}`);
    } else if (r.status === 'changed') {
      this.write(`${host}: changed ${label}${r.changes.length ? ': ' + r.changes.map((c) => c.summary).join('; ') : ''}`);
    } else {
      this.write(`${host}: ${r.status} ${label}`);
    }
  }
  hostDone(r: HostResult): void {
    if (this.mode === 'plan' && (r.status === 'ok' || r.status === 'changed')) {
      this.write(`${r.host}: ${r.changed ? `${r.changed} to change` : 'no changes'} (${r.seconds.toFixed(2)} s)`);
      return;
    }
    const detail = r.status === 'unreachable' || r.status === 'refused' || r.status === 'interrupted' || (r.status === 'failed' && r.error) ? `: ${r.error}` : '';
    this.write(`${r.host}: ${r.status.toUpperCase()}${detail} (ok=${r.ok} changed=${r.changed} ${r.seconds.toFixed(2)} s)`);
  }
  notice(message: string): void {
    this.write(message);
  }
  async close(): Promise<void> {}
}
