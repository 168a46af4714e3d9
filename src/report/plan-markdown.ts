/**
 * The plan as a pull-request comment. Hosts whose changes are identical are
 * one section ("mail1, mail2, mail3 (3 hosts)"); unchanged hosts are counted,
 * not listed, so a 200-host plan with one change per host stays a screen per
 * group.
 *
 * A reviewer must be able to trust every line. Host text (diffs, summaries,
 * reasons, errors) could otherwise hide the rest of the plan (`<!--`), forge
 * a heading, list item or fence, or hide a link, so: diffs sit in a fence
 * longer than any backtick run inside them; inline text is kept to its line
 * and has HTML-significant characters, backslashes, backticks, pipes,
 * brackets and a leading # escaped; control characters are escaped as in the
 * terminal outputs.
 */
import { escapeControl } from './escape.js';
import { waitsOnly } from '../engine/blocks.js';
import type { PlanDocument, PlanDocumentHost } from '../engine/plan-schema.js';

const LISTED_HOSTS = 8;

function longestBacktickRun(text: string): number {
  return Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
}

function fence(text: string, lang = ''): string {
  const body = escapeControl(text.trimEnd());
  // A fence longer than any backtick run inside, so no line of the content can close it.
  const ticks = '`'.repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${ticks}${lang}\n${body}\n${ticks}`;
}

/** Inline text: one line, rendered as the characters it holds, never as markup. */
function md(text: string): string {
  const escaped = text
    .replace(/[\\`|[\]]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^#/, '\\#');
  return escapeControl(escaped, { oneLine: true });
}

/** A code span whose delimiters are longer than any backtick run inside it. */
function code(text: string): string {
  const body = escapeControl(text, { oneLine: true });
  const ticks = '`'.repeat(longestBacktickRun(body) + 1);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${body}${pad}${ticks}`;
}

function hostList(names: string[]): string {
  const n = names.length;
  const label = `(${n} host${n === 1 ? '' : 's'})`;
  if (n <= LISTED_HOSTS) return `${names.map(md).join(', ')} ${label}`;
  return `${names.slice(0, 3).map(md).join(', ')}, … ${md(names[n - 1])} ${label}`;
}

function hostBody(h: PlanDocumentHost): string[] {
  if (h.status === 'unreachable' || (h.status === 'failed' && h.error)) return [`**${h.status}**: ${md(h.error ?? '')}`];
  const lines: string[] = [];
  for (const t of h.tasks) {
    if (t.runs_if && t.outcome !== 'skipped') {
      lines.push(
        `- **${md(t.name)}** — may run (if ${md(t.runs_if)})${t.outcome === 'change' ? ': would change' : t.outcome === 'ok' ? ': no change' : `: ${md(t.reason ?? '')}`}`,
      );
      continue;
    }
    // Issue 15: what a task prints (debug, assert).
    if (t.message !== undefined && t.outcome === 'ok') {
      lines.push(`- **${md(t.name)}**: ${md(t.message)}`);
      continue;
    }
    if (t.outcome === 'ok' || t.outcome === 'skipped') continue;
    if (t.outcome === 'may-change') {
      lines.push(`- **${md(t.name)}** — may change: ${md(t.reason ?? '')}`);
      continue;
    }
    if (t.outcome === 'error') {
      lines.push(`- **${md(t.name)}** — cannot apply: ${md(t.reason ?? '')}`);
      continue;
    }
    lines.push(`- **${md(t.name)}**${waitsOnly(t) ? ' — waits, changes nothing' : ''}`);
    for (const c of t.changes) {
      lines.push(`  - ${md(c.summary)}`);
      if (c.diff)
        lines.push(
          '',
          ...fence(c.diff, 'diff')
            .split('\n')
            .map((l) => `    ${l}`),
          '',
        );
    }
  }
  if (h.handlers.length) {
    lines.push('', 'Handlers:');
    for (const handler of h.handlers)
      lines.push(`- **${md(handler.name)}** ${handler.runs} run${handler.at ? ` ${md(handler.at)}` : ''} because ${handler.because.map(md).join('; ')}`);
  }
  return lines;
}

export function planMarkdown(doc: PlanDocument): string {
  const s = doc.summary;
  const out = [
    `## plumb plan: ${s.changes} change${s.changes === 1 ? '' : 's'} on ${s.with_changes} of ${s.hosts} host${s.hosts === 1 ? '' : 's'}`,
    '',
    `${s.hosts} hosts · ${s.changes} changes · ${s.unchanged} unchanged · ${s.unreachable} unreachable${s.failed ? ` · ${s.failed} failed` : ''}`,
    '',
    `Playbook ${code(doc.command.playbook)}, inventory ${code(doc.command.inventory)}${doc.command.limit ? `, limit ${code(doc.command.limit)}` : ''}.`,
  ];
  const plays = [...new Set(doc.hosts.map((h) => h.play_index))];
  for (const playIndex of plays) {
    const hosts = doc.hosts.filter((h) => h.play_index === playIndex);
    out.push('', `### Play: ${md(hosts[0].play)}`);
    const groups = new Map<string, { names: string[]; body: string[] }>();
    let unchanged = 0;
    for (const h of hosts) {
      // Issue 15: a host that only prints something (debug) is shown, not counted as unchanged.
      if (h.status === 'unchanged' && !h.tasks.some((t) => t.message !== undefined || waitsOnly(t))) {
        unchanged++;
        continue;
      }
      const body = hostBody(h);
      const key = body.join('\n');
      const group = groups.get(key) ?? { names: [], body };
      group.names.push(h.name);
      groups.set(key, group);
    }
    for (const g of groups.values()) out.push('', `#### ${hostList(g.names)}`, '', ...g.body);
    if (unchanged) out.push('', `${unchanged} host${unchanged === 1 ? '' : 's'} unchanged.`);
  }
  return out.join('\n') + '\n';
}
