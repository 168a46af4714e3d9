/**
 * A plan document as terminal text (what `plumb merge --format text` prints):
 * hosts whose changes are identical are one entry, as in the markdown plan,
 * so the plan of many hosts stays a screen per kind of change. Host text is
 * escaped field by field, as in plan-text.ts.
 */
import type { PlanDocument, PlanDocumentHost } from '../engine/plan-schema.js';
import { EXIT } from '../errors.js';
import { escapeControl } from './escape.js';
import { waitsOnly } from '../engine/blocks.js';

const f = (text: string) => escapeControl(text, { oneLine: true });
const LISTED_HOSTS = 8;

function hostLines(h: PlanDocumentHost): string[] {
  if (h.status === 'unreachable' || (h.status === 'failed' && h.error)) return [`  ! ${h.status}: ${f(h.error ?? '')}`];
  const lines: string[] = [];
  for (const t of h.tasks) {
    if (t.runs_if && t.outcome !== 'skipped') {
      lines.push(`  ? ${f(t.name)} — may run (if ${f(t.runs_if)})${t.outcome === 'ok' ? ': no change' : t.outcome === 'change' ? ': would change' : `: ${f(t.reason ?? '')}`}`);
      continue;
    }
    // Issue 15: what a task prints (debug, assert).
    if (t.message !== undefined && t.outcome === 'ok') {
      lines.push(`  > ${f(t.name)}: ${f(t.message)}`);
      continue;
    }
    if (t.outcome === 'ok' || t.outcome === 'skipped') continue;
    if (t.outcome === 'may-change' || t.outcome === 'error') {
      lines.push(`  ${t.outcome === 'error' ? '!' : '?'} ${f(t.name)} — ${t.outcome === 'error' ? 'cannot apply' : 'may change'}: ${f(t.reason ?? '')}`);
      continue;
    }
    lines.push(`  ${waitsOnly(t) ? '=' : '~'} ${f(t.name)}`);
    for (const c of t.changes) {
      lines.push(`      ${f(c.summary)}`);
      if (c.diff)
        lines.push(
          ...c.diff
            .trimEnd()
            .split('\n')
            .map((l) => `        ${f(l)}`),
        );
    }
  }
  for (const h2 of h.handlers)
    lines.push(`  ${h2.runs === 'will' ? '!' : '?'} handler ${f(h2.name)} — ${h2.runs} run${h2.at ? ` ${f(h2.at)}` : ''} because ${h2.because.map(f).join(', ')}`);
  return lines;
}

function hostList(names: string[]): string {
  const n = names.length;
  const shown = n <= LISTED_HOSTS ? names.map(f).join(', ') : `${names.slice(0, 3).map(f).join(', ')}, … ${f(names[n - 1])}`;
  return n === 1 ? shown : `${shown} (${n} hosts)`;
}

export function planDocumentText(doc: PlanDocument): string {
  const out: string[] = [];
  for (const playIndex of [...new Set(doc.hosts.map((h) => h.play_index))]) {
    const hosts = doc.hosts.filter((h) => h.play_index === playIndex);
    const groups = new Map<string, { names: string[]; lines: string[] }>();
    for (const h of hosts) {
      if (h.status === 'unchanged' && !h.tasks.some((t) => t.message !== undefined || waitsOnly(t))) continue;
      const lines = hostLines(h);
      if (!lines.length) continue;
      const key = lines.join('\n');
      const group = groups.get(key) ?? { names: [], lines };
      group.names.push(h.name);
      groups.set(key, group);
    }
    for (const g of groups.values()) out.push(`${hostList(g.names)} (${f(hosts[0].play)})`, ...g.lines, '');
  }
  const s = doc.summary;
  out.push(
    `Plan: ${s.hosts} host${s.hosts === 1 ? '' : 's'}, ${s.changes} change${s.changes === 1 ? '' : 's'} on ${s.with_changes} host${s.with_changes === 1 ? '' : 's'}, ${s.unchanged} unchanged` +
      (s.unreachable ? `, ${s.unreachable} unreachable` : '') +
      (s.failed ? `, ${s.failed} failed` : ''),
  );
  return out.join('\n') + '\n';
}

/** The exit code `plumb plan` gives for this plan: errors, then unreachable hosts, then pending changes. */
export function planExitCode(doc: PlanDocument): number {
  if (doc.hosts.some((h) => h.status === 'failed')) return EXIT.error;
  if (doc.hosts.some((h) => h.status === 'unreachable')) return EXIT.unreachable;
  if (doc.hosts.some((h) => h.status === 'changes')) return EXIT.changes;
  return EXIT.ok;
}
