/** The recap table printed at the end of every run. */
import type { HostResult } from '../engine/types.js';
import { escapeControl } from './escape.js';

const f = (text: string) => escapeControl(text, { oneLine: true });

export function recapTable(results: HostResult[], mode: 'plan' | 'apply'): string {
  const head =
    mode === 'plan' ? ['host', 'status', 'ok', 'to change', 'failed', 'unreachable', 'seconds'] : ['host', 'status', 'ok', 'changed', 'failed', 'unreachable', 'seconds'];
  const rows = results.map((r) => [
    f(r.host),
    mode === 'plan' && r.status === 'changed' ? 'changes' : r.status,
    String(r.ok),
    String(r.changed),
    String(r.failed + (r.status === 'failed' && r.failed === 0 ? 1 : 0)),
    r.status === 'unreachable' ? '1' : '0',
    r.seconds.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = ['RECAP', line(head), ...rows.map(line)];
  for (const r of results) if (r.error) out.push(`${f(r.host)}: ${f(r.error)}`);
  return out.join('\n') + '\n';
}
