/**
 * Ansible host patterns: `all`/`*`, a group, a host, globs (`web*`), union
 * `a:b` (or `a,b`), intersection `a:&b` and exclusion `a:!b`. Unions are
 * taken first, then intersections, then exclusions, as Ansible does; the
 * result is always in inventory order.
 */
import { PlumbError } from '../errors.js';
import type { Inventory } from './model.js';
import { closest } from '../source/suggest.js';

/** A --limit or hosts: pattern that names no host or group (with a suggestion). */
export class PatternError extends PlumbError {}

export function matchHosts(inventory: Inventory, pattern: string): string[] {
  const terms = pattern
    .split(/[:,]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (terms.length === 0) throw new PatternError(`empty host pattern ${JSON.stringify(pattern)}`);
  const unions: string[] = [];
  const intersections: string[] = [];
  const exclusions: string[] = [];
  for (const t of terms) {
    if (t.startsWith('&')) intersections.push(t.slice(1));
    else if (t.startsWith('!')) exclusions.push(t.slice(1));
    else unions.push(t);
  }
  // `!db` alone means "everything but db", as in Ansible.
  let selected = new Set<string>(unions.length ? unions.flatMap((t) => resolveTerm(inventory, t)) : inventory.hosts.keys());
  for (const t of intersections) {
    const keep = new Set(resolveTerm(inventory, t));
    selected = new Set([...selected].filter((h) => keep.has(h)));
  }
  for (const t of exclusions) for (const h of resolveTerm(inventory, t)) selected.delete(h);
  return [...inventory.hosts.keys()].filter((h) => selected.has(h));
}

/** Hosts of a play narrowed by `--limit`. */
export function applyLimit(inventory: Inventory, hosts: string[], limit: string | undefined): string[] {
  if (!limit) return hosts;
  const allowed = new Set(matchHosts(inventory, limit));
  return hosts.filter((h) => allowed.has(h));
}

function resolveTerm(inventory: Inventory, term: string): string[] {
  if (term === '') throw new PatternError('empty term in host pattern (look for `::`, `:&` or `:!` with nothing after it)');
  if (term === 'all' || term === '*') return [...inventory.hosts.keys()];
  const group = inventory.groups.get(term);
  if (group) return group;
  if (inventory.hosts.has(term)) return [term];
  if (/[*?[]/.test(term)) {
    const re = globToRegExp(term);
    const out = new Set<string>();
    for (const h of inventory.hosts.keys()) if (re.test(h)) out.add(h);
    for (const [g, members] of inventory.groups) if (re.test(g)) for (const h of members) out.add(h);
    return [...out];
  }
  const near = closest(term, [...inventory.groups.keys(), ...inventory.hosts.keys()]);
  const hint = near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '';
  throw new PatternError(`"${term}" is neither a host nor a group of ${inventory.file}${hint}`);
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
