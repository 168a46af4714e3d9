/**
 * The check a task's arguments get once rendered for a host: the module's
 * own schema, the very rule a literal passes. Each failure is tied to the
 * templated leaf it sits in, so the message names the argument, shows the
 * value (never one computed from a secret) and names the variables it came
 * from. Used by validate's render pass and by the engine before it probes.
 */
import type { z } from 'zod';
import type { RenderedLeaf } from '../template/render.js';
import { flattenIssue, valueAt } from '../source/issues.js';
import { formatPath, type PathPart } from '../source/yaml.js';

interface RenderedIssue {
  /** Where, relative to the task's arguments (e.g. ['name', 1]). */
  path: PathPart[];
  /** `apt.name[1] = "-oDPkg…" is not a Debian package name (…), from variable pkg` */
  message: string;
}

export interface RenderedCheckOptions {
  /** Variables that hold secrets: a value read from any of them is never shown. */
  secretNames: ReadonlySet<string>;
  redact(text: string): string;
}

export type RenderedResult = { ok: true; data: unknown } | { ok: false; issues: RenderedIssue[] };

export function checkRenderedArgs(module: string, schema: z.ZodType, rendered: unknown, leaves: RenderedLeaf[], options: RenderedCheckOptions): RenderedResult {
  const parsed = schema.safeParse(rendered);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((issue) => describe(module, flattenIssue(issue, rendered), rendered, leaves, options)) };
}

function describe(module: string, flat: ReturnType<typeof flattenIssue>, rendered: unknown, leaves: RenderedLeaf[], options: RenderedCheckOptions): RenderedIssue {
  const where = formatPath([module, ...flat.path]);
  const from = leavesOf(flat.path, leaves);
  // A literal problem (load reports those) has no variable to name and its value is the author's.
  if (from.length === 0 || flat.keys || flat.badKey) return { path: flat.path, message: options.redact(`${where}: ${flat.message}`) };
  const reads = new Set(from.flatMap((l) => [...l.reads]));
  const secret = [...reads].some((r) => options.secretNames.has(r));
  // "found <the value>" would show what the secret made; the rule alone is enough.
  const reason = secret ? flat.message.replace(/, found .*$/s, '') : flat.message;
  // A free-form `command: "{{ x }}"` becomes { cmd } only inside the schema: show the leaf then.
  const at = valueAt(rendered, flat.path);
  const value = secret ? '(secret)' : shown(at === undefined && from.length === 1 ? from[0].value : at);
  const names = variableNames(reads);
  const source = names.length ? `, from variable${names.length > 1 ? 's' : ''} ${names.join(', ')}` : '';
  return { path: flat.path, message: options.redact(`${where} = ${value}${joiner(reason)}${reason}${source}`) };
}

/** The leaf the issue sits on or in; else the leaves inside it (a list rendered item by item). */
function leavesOf(path: PathPart[], leaves: RenderedLeaf[]): RenderedLeaf[] {
  const covering = leaves.filter((l) => isPrefix(l.path, path)).sort((a, b) => b.path.length - a.path.length);
  if (covering.length) return [covering[0]];
  return leaves.filter((l) => isPrefix(path, l.path));
}

function isPrefix(prefix: readonly PathPart[], path: readonly PathPart[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}

/** `env` itself says nothing once the `env.NAME` that was read is known. */
function variableNames(reads: Set<string>): string[] {
  const all = [...reads];
  const envNamed = all.some((r) => r.startsWith('env.'));
  return all.filter((r) => !(envNamed && r === 'env'));
}

/** The value as JSON, shortened; control and direction characters escaped, so none reaches a terminal raw. */
function shown(value: unknown): string {
  const json = (JSON.stringify(value) ?? String(value)).replace(
    /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return json.length > 80 ? `${json.slice(0, 79)}…` : json;
}

/** `x = "v" is not a …` reads as a sentence; other rules follow a colon. */
function joiner(reason: string): string {
  if (reason.startsWith('not ')) return ' is ';
  if (/^(is|contains|has) /.test(reason)) return ' ';
  return ': ';
}
