/** The plan as plain text, for a terminal. Host-derived text is escaped field by field: see escape.ts. */
import type { HostPlan } from '../engine/types.js';
import { countsAsChange, waitsOnly } from '../engine/blocks.js';
import { escapeControl } from './escape.js';

/** One field on one line: a newline inside it must not start a line that looks like plumb's. */
const f = (text: string) => escapeControl(text, { oneLine: true });

const MARK = { ok: ' ', change: '~', 'may-change': '?', skipped: '-', error: '!' } as const;

export interface PlanSummary {
  hosts: number;
  withChanges: number;
  changes: number;
  unchanged: number;
  unreachable: number;
  failed: number;
}

export function summarize(plans: HostPlan[]): PlanSummary {
  const hosts = new Set(plans.map((p) => p.host));
  const changed = new Set<string>();
  const unreachable = new Set<string>();
  const failed = new Set<string>();
  let changes = 0;
  for (const p of plans) {
    if (p.status === 'unreachable') unreachable.add(p.host);
    if (p.status === 'failed' || p.tasks.some((t) => t.outcome === 'error')) failed.add(p.host);
    const n = p.tasks.filter(countsAsChange).length;
    if (n || p.handlers.length) changed.add(p.host);
    changes += n;
  }
  return {
    hosts: hosts.size,
    withChanges: changed.size,
    changes,
    unchanged: [...hosts].filter((h) => !changed.has(h) && !unreachable.has(h) && !failed.has(h)).length,
    unreachable: unreachable.size,
    failed: failed.size,
  };
}

function hostPlanLines(plan: HostPlan, options: { diffs?: boolean; showOk?: boolean } = {}): string[] {
  const lines: string[] = [];
  if (plan.status !== 'planned') {
    lines.push(`  ! ${plan.status}: ${f(plan.error ?? '')}`);
    return lines;
  }
  for (const t of plan.tasks) {
    if (t.runsIf && t.outcome !== 'skipped') {
      // A rescue task: shown whatever it would do, since it runs only if its block fails.
      lines.push(`  ? ${f(t.task.name)} — may run (if ${f(t.runsIf)})${t.outcome === 'ok' ? ': no change' : t.outcome === 'change' ? ': would change' : `: ${f(t.reason ?? '')}`}`);
      for (const c of t.outcome === 'change' ? t.changes : []) lines.push(`      ${f(c.summary)}`);
      continue;
    }
    // Issue 15: what a task prints (debug, assert) is shown whatever its outcome, on its own line.
    if (t.message !== undefined && t.outcome === 'ok') {
      lines.push(`  > ${f(t.task.name)}: ${f(t.message)}`);
      continue;
    }
    if (t.outcome === 'ok' && !options.showOk) continue;
    if (t.outcome === 'skipped' && !options.showOk) continue;
    if (t.outcome === 'may-change' || t.outcome === 'error') {
      lines.push(`  ${MARK[t.outcome]} ${f(t.task.name)} — ${t.outcome === 'error' ? 'cannot apply' : 'may change'}: ${f(t.reason ?? '')}`);
      continue;
    }
    // Issue 15: a wait (pause, wait_for) is marked "=": apply waits, nothing changes.
    lines.push(`  ${waitsOnly(t) ? '=' : MARK[t.outcome]} ${f(t.task.name)}${t.outcome === 'skipped' ? ` (${f(t.reason ?? '')})` : ''}`);
    for (const c of t.changes) {
      lines.push(`      ${f(c.summary)}`);
      if (options.diffs && c.diff)
        lines.push(
          ...c.diff
            .trimEnd()
            .split('\n')
            .map((l) => `        ${f(l)}`),
        );
    }
  }
  for (const h of plan.handlers) {
    lines.push(`  ${h.runs === 'will' ? '!' : '?'} handler ${f(h.name)} — ${h.runs} run${h.at ? ` ${f(h.at)}` : ''} because ${h.because.map(f).join(', ')}`);
  }
  return lines;
}

export function planText(plans: HostPlan[], options: { diffs?: boolean } = {}): string {
  const out: string[] = [];
  for (const p of plans) {
    const lines = hostPlanLines(p, options);
    if (!lines.length) continue;
    out.push(`${f(p.host)} (${f(p.play.name)})`, ...lines, '');
  }
  const s = summarize(plans);
  out.push(
    `Plan: ${s.hosts} host${s.hosts === 1 ? '' : 's'}, ${s.changes} change${s.changes === 1 ? '' : 's'} on ${s.withChanges} host${s.withChanges === 1 ? '' : 's'}, ${s.unchanged} unchanged` +
      (s.unreachable ? `, ${s.unreachable} unreachable` : '') +
      (s.failed ? `, ${s.failed} failed` : ''),
  );
  return out.join('\n') + '\n';
}
