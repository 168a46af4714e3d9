/**
 * What an apply changed, grouped as the markdown plan groups hosts: hosts whose
 * changes (and failures) are identical share one section, unchanged hosts are
 * counted, not listed. On 2,000 hosts with the same two changes that is four
 * lines, where the recap alone only gives per-host counts.
 */
import type { HostResult, TaskResult } from '../engine/types.js';
import { escapeControl } from './escape.js';

const f = (text: string) => escapeControl(text, { oneLine: true });

/** Names listed in a group's heading before it is shortened to "first, second, third, … last". */
const LISTED_HOSTS = 8;

function hostList(names: string[]): string {
  const n = names.length;
  const label = `(${n} host${n === 1 ? '' : 's'})`;
  if (n <= LISTED_HOSTS) return `${names.map(f).join(', ')} ${label}`;
  return `${names.slice(0, 3).map(f).join(', ')}, … ${f(names[n - 1])} ${label}`;
}

function taskLine(t: TaskResult): string | undefined {
  const label = f(t.handler ? `handler ${t.name}` : t.name);
  if (t.status === 'failed') return `${t.ignored ? 'failed (ignored)' : t.rescued ? 'failed (rescued)' : 'FAILED'} ${label}${t.error ? `: ${f(t.error)}` : ''}`;
  // Issue 15: what a task printed (debug, assert) is part of what happened.
  if (t.status === 'ok' && t.message !== undefined) return `ok ${label}: ${f(t.message)}`;
  if (t.status !== 'changed') return undefined;
  return `changed ${label}${t.changes.length ? `: ${t.changes.map((c) => f(c.summary)).join('; ')}` : ''}`;
}

/** The lines that describe one host's run; empty when nothing changed or went wrong. */
function hostBody(r: HostResult): string[] {
  const lines = r.tasks.map(taskLine).filter((l): l is string => l !== undefined);
  if (
    r.status === 'unreachable' ||
    r.status === 'refused' ||
    r.status === 'interrupted' ||
    r.status === 'not-run' ||
    (r.status === 'failed' && !lines.some((l) => l.startsWith('FAILED')))
  )
    lines.push(`${r.status.toUpperCase()}${r.error ? `: ${f(r.error)}` : ''}`);
  return lines;
}

/** The CHANGES section printed after the recap. */
export function changeSummary(results: HostResult[]): string {
  const groups = new Map<string, { names: string[]; body: string[] }>();
  let unchanged = 0;
  for (const r of results) {
    const body = hostBody(r);
    if (!body.length) {
      unchanged++;
      continue;
    }
    const key = body.join('\n');
    const group = groups.get(key) ?? { names: [], body };
    group.names.push(r.host);
    groups.set(key, group);
  }
  const out = ['CHANGES'];
  if (!groups.size) out.push(`  none: ${unchanged} host${unchanged === 1 ? '' : 's'} unchanged`);
  for (const g of groups.values()) out.push(`  ${hostList(g.names)}:`, ...g.body.map((l) => `    ${l}`));
  if (groups.size && unchanged) out.push(`  ${unchanged} host${unchanged === 1 ? '' : 's'} unchanged`);
  return out.join('\n') + '\n';
}
