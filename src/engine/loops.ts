/**
 * A loop's items from its rendered value, one function per Ansible form
 * (`loop`, `with_items`, `with_list`, `with_dict`, `with_together`,
 * `with_subelements`, `with_fileglob`, `with_first_found`, `with_sequence`, `with_nested`,
 * `with_indexed_items`), and what an item
 * is called in plans. Pure but for the two forms that look at the controller's
 * files (never the host's, as in Ansible).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { LoopSpec } from '../config/model.js';
import { sequence, SequenceError } from '../config/sequence.js';

export class LoopError extends Error {}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return 'a list';
  if (isMapping(v)) return 'a mapping';
  return `a ${typeof v}`;
}

function list(form: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new LoopError(`${form} needs a list, the value is ${kind(v)}`);
  return v;
}

/** Ansible's fileglob: the pattern's last part matched in its directory; `*`, `?` and `[...]` as in sh. */
function globOne(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = new RegExp(
    '^' +
      basename(pattern)
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\[!/g, '[^') +
      '$',
  );
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n) && !(n.startsWith('.') && !basename(pattern).startsWith('.')))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile())
    .sort();
}

function fileglob(value: unknown, dirs: string[]): string[] {
  const patterns = typeof value === 'string' ? [value] : list('with_fileglob', value).map(String);
  return patterns.flatMap((p) => {
    if (isAbsolute(p)) return globOne(p);
    // The first search directory that has the pattern's directory, as Ansible's lookup does.
    const base = dirs.find((d) => existsSync(join(d, dirname(p))));
    return base ? globOne(join(base, p)) : [];
  });
}

function firstFound(value: unknown, dirs: string[]): string[] {
  const terms = Array.isArray(value) ? value : [value];
  let skip = false;
  const candidates: string[] = [];
  for (const term of terms) {
    if (typeof term === 'string') {
      candidates.push(
        ...term
          .split(/[,;]/)
          .map((s) => s.trim())
          .filter(Boolean),
      );
    } else if (isMapping(term)) {
      const files = ([] as unknown[]).concat(term.files ?? []).map(String);
      const paths = ([] as unknown[]).concat(term.paths ?? []).map(String);
      skip ||= term.skip === true;
      if (!paths.length) candidates.push(...files);
      else for (const p of paths) for (const f of files) candidates.push(isAbsolute(f) ? f : join(p, f));
    } else throw new LoopError(`with_first_found: a term is ${kind(term)}, not a file name or {files, paths}`);
  }
  for (const c of candidates) {
    const found = isAbsolute(c) ? (existsSync(c) ? c : undefined) : dirs.map((d) => join(d, c)).find((p) => existsSync(p));
    if (found) return [found];
  }
  if (skip) return [];
  throw new LoopError(`with_first_found: none of ${candidates.map((c) => JSON.stringify(c)).join(', ')} exists (looked in ${dirs.join(', ')})`);
}

/** One level of nesting removed, as Ansible's lookups do (LookupBase._flatten). */
const flattenOnce = (xs: unknown[]): unknown[] => xs.flatMap((x) => (Array.isArray(x) ? x : [x]));

/** Ansible's nested lookup: every combination, first list outermost, each flattened one level. */
function nested(value: unknown): unknown[] {
  const lists = list('with_nested', value).map((l) => (Array.isArray(l) ? l : [l]));
  if (!lists.length) throw new LoopError('with_nested needs at least one list');
  let result: unknown[] = lists[0];
  for (const next of lists.slice(1)) result = result.flatMap((x) => next.map((y) => flattenOnce([x, y])));
  // A single list: Ansible flattens each element on its own (a string becomes its characters).
  return result.map((x) => (Array.isArray(x) ? flattenOnce(x) : typeof x === 'string' ? [...x] : [x]));
}

/** The items of a loop, from its value rendered for one host. */
export function loopItems(spec: Pick<LoopSpec, 'form'>, value: unknown, dirs: string[]): unknown[] {
  switch (spec.form) {
    case 'loop':
    case 'with_list':
      return list(spec.form, value);
    case 'with_items':
      // One level of nesting is flattened; a lone value is a list of one.
      return (Array.isArray(value) ? value : [value]).flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'with_dict':
      if (!isMapping(value)) throw new LoopError(`with_dict needs a mapping, the value is ${kind(value)}`);
      return Object.entries(value).map(([key, v]) => ({ key, value: v }));
    case 'with_together': {
      const lists = list('with_together', value).map((l) => list('with_together (each entry)', l));
      const n = Math.max(0, ...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : null)));
    }
    case 'with_subelements': {
      const [parents, key, options] = list('with_subelements', value);
      const skipMissing = isMapping(options) && options.skip_missing === true;
      const out: unknown[] = [];
      for (const parent of list('with_subelements (its first entry)', parents)) {
        if (!isMapping(parent)) throw new LoopError(`with_subelements: an element is ${kind(parent)}, not a mapping`);
        const children = parent[String(key)];
        if (children === undefined) {
          if (skipMissing) continue;
          throw new LoopError(`with_subelements: an element has no key "${String(key)}" (set skip_missing to skip it)`);
        }
        for (const child of list(`with_subelements (${String(key)})`, children)) out.push([parent, child]);
      }
      return out;
    }
    case 'with_fileglob':
      return fileglob(value, dirs);
    case 'with_first_found':
      return firstFound(value, dirs);
    case 'with_sequence':
      try {
        return sequence(value);
      } catch (e) {
        throw e instanceof SequenceError ? new LoopError(e.message) : e;
      }
    case 'with_nested':
      return nested(value);
    case 'with_indexed_items':
      return flattenOnce(Array.isArray(value) ? value : [value]).map((x, i) => [i, x]);
  }
}

/** What plans show for an item without a label: a string as itself, anything else as JSON. */
export function defaultLabel(item: unknown): string {
  const text = typeof item === 'string' ? item : (JSON.stringify(item) ?? 'null');
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** The variables one item adds: the loop variable, the index variable, and Ansible's `ansible_loop`. */
export function loopVariables(spec: Pick<LoopSpec, 'loop_var' | 'index_var'>, item: unknown, i: number, length: number): Record<string, unknown> {
  return {
    [spec.loop_var]: item,
    ansible_loop_var: spec.loop_var,
    ...(spec.index_var ? { [spec.index_var]: i, ansible_index_var: spec.index_var } : {}),
    ansible_loop: {
      index: i + 1,
      index0: i,
      revindex: length - i,
      revindex0: length - i - 1,
      first: i === 0,
      last: i === length - 1,
      length,
    },
  };
}
