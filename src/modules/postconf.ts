/**
 * postconf: main.cf parameters, read with `postconf -h` and set with
 * `postconf -e`. Values compare exactly as postconf prints them (unexpanded).
 * Before postfix is installed the probe answers unknown, so the engine
 * re-probes once the apt task has run.
 */
import { z } from 'zod';
import { command, quote } from '../shell.js';
import type { Change, Module, ModuleContext, Probed, SecretMarked } from './types.js';

export const postconfArgs = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]*$/, 'main.cf parameter names are lowercase letters, digits and _'),
    z
      .union([z.string(), z.number(), z.boolean()])
      .transform((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)))
      .refine((v) => !v.includes('\n'), { message: 'a main.cf value must be a single line' }),
  )
  .refine((r) => Object.keys(r).length > 0, { message: 'postconf needs at least one main.cf parameter' });

export type PostconfArgs = z.output<typeof postconfArgs>;

export interface PostconfState extends SecretMarked {
  /** Current value per requested key; null when postconf does not know the parameter. */
  values: Record<string, string | null>;
}

const MARK = '::plumb-postconf';

/**
 * Prints `::plumb-postconf missing` when postconf is not installed, else per key
 * `::plumb-postconf KEY RC` followed by the value line(s) of `postconf -h KEY`.
 * One postconf per key: a single `postconf -h a b` drops unknown keys and
 * would shift every later value onto the wrong key.
 */
function probe(args: PostconfArgs): string {
  const keys = Object.keys(args).map(quote).join(' ');
  return [
    'export PATH="$PATH:/usr/sbin:/sbin"',
    `if ! command -v postconf >/dev/null 2>&1; then echo '${MARK} missing'; else`,
    `for k in ${keys}; do v=$(postconf -h "$k" 2>/dev/null); echo "${MARK} $k $?"; printf '%s\\n' "$v"; done`,
    'fi',
  ].join('\n');
}

function parse(args: PostconfArgs, stdout: string, ctx: ModuleContext): Probed<PostconfState> {
  const lines = stdout.split('\n');
  if (lines[0] === `${MARK} missing`) return { known: false, reason: 'postconf is not installed' };
  const values: Record<string, string | null> = {};
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^${MARK} ([a-z0-9_]+) (\\d+)$`).exec(lines[i]);
    if (!m) continue;
    // $(...) strips trailing newlines, so the value is exactly one printed line.
    values[m[1]] = m[2] === '0' ? (lines[i + 1] ?? '') : null;
    i++;
  }
  const missing = Object.keys(args).filter((k) => !(k in values));
  if (missing.length > 0) return { known: false, reason: `postconf printed nothing for ${missing.join(', ')}` };
  const state: PostconfState = { values };
  const secret = Object.keys(args).filter((k) => ctx.hasSecret(args[k]) || (values[k] !== null && ctx.hasSecret(values[k] as string)));
  if (secret.length > 0) state.secretFields = secret.map((k) => `values.${k}`);
  return { known: true, state };
}

function changes(args: PostconfArgs, state: PostconfState, ctx: ModuleContext): Change[] {
  const out: Change[] = [];
  for (const [key, want] of Object.entries(args)) {
    const have = state.values[key] ?? null;
    if (have === want) continue;
    const target = `main.cf ${key}`;
    if (ctx.hasSecret(want) || (have !== null && ctx.hasSecret(have))) {
      out.push({ summary: `set ${key} (secret)`, target, secret: true });
    } else {
      const before = have === null ? '(unset)' : have === '' ? '(empty)' : have;
      out.push({ summary: `set ${key}: ${before} → ${want === '' ? '(empty)' : want}`, target, before: have, after: want });
    }
  }
  return out;
}

export const postconf: Module<PostconfArgs, PostconfState> = {
  name: 'postconf',
  schema: postconfArgs,
  probe: (args) => probe(args),
  parse: (args, out, ctx) => parse(args, out.stdout, ctx),
  diff: (args, state, ctx) => changes(args, state, ctx),
  apply(args, state, changesIn, ctx) {
    const keys = changes(args, state, ctx).map((c) => c.target.slice('main.cf '.length));
    if (changesIn.length === 0 || keys.length === 0) return [];
    // One postconf -e for all keys: postconf rewrites main.cf once (it writes it via a temp file and rename).
    const line = 'export PATH="$PATH:/usr/sbin:/sbin"; ' + command('postconf', '-e', ...keys.map((k) => `${k}=${args[k]}`));
    return [{ kind: 'exec', command: line, describe: ctx.redact(`postconf -e ${keys.map((k) => `${k}=${args[k]}`).join(' ')}`) }];
  },
};
