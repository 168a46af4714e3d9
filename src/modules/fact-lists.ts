/**
 * Argument pieces of the fact modules (setup, package_facts): Ansible's `list`
 * type, which takes a list or one comma-separated string, and Python's fnmatch,
 * which setup's `filter` matches fact names with.
 */
import { z } from 'zod';

/** A list of strings, or one string Ansible splits on commas (`gather_subset: '!all,network'`). */
export function ansibleList<T extends string>(element: z.ZodType<T, string>) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v))
    .pipe(z.array(element));
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; the whole name must match. */
export function fnmatchRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      // As Python: a `]` right after `[` or `[!` belongs to the set; an unclosed `[` is literal.
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) {
        out += '\\[';
        continue;
      }
      const set = pattern.slice(i + 1, j);
      i = j;
      if (set === '!') out += '.';
      else {
        const body = set.replace(/^!/, '').replace(/[\\\]^]/g, '\\$&');
        out += `[${set.startsWith('!') ? '^' : ''}${body}]`;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`, 's');
}
