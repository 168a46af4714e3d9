/**
 * The plan as a pull-request comment. Hosts whose changes are identical are
 * one section ("mail1, mail2, mail3 (3 hosts)"); unchanged hosts are counted,
 * not listed, so a 200-host plan with one change per host stays a screen per
 * group.
 */
import type { PlanDocument, PlanDocumentHost } from './plan-document.js';

const LISTED_HOSTS = 8;

function fence(text: string, lang = ''): string {
  // A fence longer than any backtick run inside, so diffs of markdown files survive.
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${lang}\n${text.trimEnd()}\n${ticks}`;
}

function hostList(names: string[]): string {
  const n = names.length;
  const label = `(${n} host${n === 1 ? '' : 's'})`;
  if (n <= LISTED_HOSTS) return `${names.join(', ')} ${label}`;
  return `${names.slice(0, 3).join(', ')}, … ${names[n - 1]} ${label}`;
}

function hostBody(h: PlanDocumentHost): string[] {
  if (h.status === 'unreachable' || (h.status === 'failed' && h.error)) return [`**${h.status}**: ${h.error ?? ''}`];
  const lines: string[] = [];
  for (const t of h.tasks) {
    if (t.outcome === 'ok' || t.outcome === 'skipped') continue;
    if (t.outcome === 'may-change') {
      lines.push(`- **${t.name}** — may change: ${t.reason}`);
      continue;
    }
    if (t.outcome === 'error') {
      lines.push(`- **${t.name}** — cannot apply: ${t.reason}`);
      continue;
    }
    lines.push(`- **${t.name}**`);
    for (const c of t.changes) {
      lines.push(`  - ${c.summary}`);
      if (c.diff) lines.push('', ...fence(c.diff, 'diff').split('\n').map((l) => `    ${l}`), '');
    }
  }
  if (h.handlers.length) {
    lines.push('', 'Handlers:');
    for (const handler of h.handlers) lines.push(`- **${handler.name}** ${handler.runs} run because ${handler.because.join('; ')}`);
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
    `Playbook \`${doc.command.playbook}\`, inventory \`${doc.command.inventory}\`${doc.command.limit ? `, limit \`${doc.command.limit}\`` : ''}.`,
  ];
  const plays = [...new Set(doc.hosts.map((h) => h.play_index))];
  for (const playIndex of plays) {
    const hosts = doc.hosts.filter((h) => h.play_index === playIndex);
    out.push('', `### Play: ${hosts[0].play}`);
    const groups = new Map<string, { names: string[]; body: string[] }>();
    let unchanged = 0;
    for (const h of hosts) {
      if (h.status === 'unchanged') {
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
