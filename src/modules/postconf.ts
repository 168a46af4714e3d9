/**
 * postconf: main.cf parameters, read with `postconf -h` and set with
 * `postconf -e`. Values compare exactly as postconf prints them (unexpanded).
 * Before postfix is installed the probe answers unknown, so the engine
 * re-probes once the apt task has run.
 */
import { z } from 'zod';
import { command, quote } from '../shell.js';
import { ModuleError, type Change, type Module, type ModuleContext, type Probed, type SecretMarked } from './types.js';

export const postconfArgs = z
  .record(
    z.string(),
    z
      .union([z.string(), z.number(), z.boolean()])
      .transform((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)))
      .refine((v) => !v.includes('\n'), { message: 'a main.cf value must be a single line' })
      .refine((v) => !v.includes('\0'), { message: 'contains a NUL byte' })
      // postconf -e trims it, so such a value could never compare equal and would change on every run.
      .refine((v) => v === v.trim(), { message: 'a main.cf value cannot start or end with whitespace (postconf trims it)' }),
  )
  // Checked here rather than as the record's key schema so the message names the key (zod reports key errors as "Invalid key in record").
  .superRefine((r, ctx) => {
    for (const key of Object.keys(r)) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(key)}: main.cf parameter names are letters, digits and _ (e.g. smtp_tls_CApath)` });
      }
    }
  })
  .refine((r) => Object.keys(r).length > 0, { message: 'postconf needs at least one main.cf parameter' });

export type PostconfArgs = z.output<typeof postconfArgs>;

export interface PostconfState extends SecretMarked {
  /** Current value per requested key, exactly as `postconf -h` prints it (unexpanded). */
  values: Record<string, string>;
  /** Set when Postfix cannot parse the current main.cf (then every postconf fails): what postconf said. */
  broken?: string;
}

const MARK = '::plumb-postconf';

/**
 * Prints `::plumb-postconf missing` when postconf is not installed, else
 * `::plumb-postconf values`, the output of one `postconf -h KEY...` with stderr
 * merged, and `::plumb-postconf-rc RC`. postconf prints one line per known key,
 * in argument order; for an unknown key it prints only a warning (and still
 * exits 0), so the warnings are read to keep values on the right keys.
 */
function probe(args: PostconfArgs): string {
  const keys = Object.keys(args).map(quote).join(' ');
  return [
    'export PATH="$PATH:/usr/sbin:/sbin"',
    `if ! command -v postconf >/dev/null 2>&1; then echo '${MARK} missing'; else`,
    `echo '${MARK} values'; postconf -h -- ${keys} </dev/null 2>&1; echo "${MARK}-rc $?"`,
    'fi',
  ].join('\n');
}

/** postconf's diagnostics start with its own path: "postconf: warning: ...", "/usr/sbin/postconf: fatal: ...". */
const DIAGNOSTIC = /^\S*postconf: (warning|fatal|error): (.*)$/;

/**
 * Why Postfix cannot parse main.cf, without the quoted text postconf adds
 * (`truncated macro reference: "a$(b"`): that text is a value from the host,
 * possibly a secret.
 */
function parseFailure(diagnostics: string[]): string {
  const why = diagnostics.find((d) => !/unused parameter|undefined parameter|macro processing error/.test(d)) ?? diagnostics.find((d) => d) ?? 'postconf failed';
  return why.replace(/:?\s*"[^"]*"\s*$/, '');
}

function parse(args: PostconfArgs, stdout: string, ctx: ModuleContext): Probed<PostconfState> {
  const lines = stdout.split('\n');
  if (lines[0] === `${MARK} missing`) return { known: false, reason: 'postconf is not installed' };
  const keys = Object.keys(args);
  const start = lines.indexOf(`${MARK} values`);
  const end = lines.findIndex((l) => l.startsWith(`${MARK}-rc `));
  if (start < 0 || end < start) return { known: false, reason: `unexpected probe output for postconf: ${JSON.stringify(ctx.redact(stdout.slice(0, 80)))}` };
  const rc = Number(lines[end].slice(`${MARK}-rc `.length));
  const values: string[] = [];
  const diagnostics: string[] = [];
  let fatal = false;
  for (const line of lines.slice(start + 1, end)) {
    const diag = DIAGNOSTIC.exec(line);
    if (diag) {
      diagnostics.push(diag[2]);
      if (diag[1] === 'fatal') fatal = true;
    } else values.push(line);
  }
  // Measured on Postfix 3.7: one unparseable value anywhere in main.cf makes every postconf exit 1
  // with "fatal: macro processing error". That is a fact about the host, not an unknown state.
  if (rc !== 0 && fatal && diagnostics.some((d) => /macro|syntax error/.test(d))) {
    return { known: true, state: { values: {}, broken: ctx.redact(parseFailure(diagnostics)) } };
  }
  const unknownKeys = keys.filter((k) => diagnostics.includes(`${k}: unknown parameter`));
  if (unknownKeys.length > 0) {
    return { known: false, reason: `postconf does not know parameter ${unknownKeys.join(', ')} (misspelt, or not in this Postfix version)` };
  }
  if (rc !== 0 || values.length !== keys.length) {
    const why = diagnostics.find((d) => !d.includes('unused parameter')) ?? `exit ${rc}, ${values.length} values for ${keys.length} keys`;
    return { known: false, reason: `postconf -h failed: ${ctx.redact(why)}` };
  }
  const state: PostconfState = { values: Object.fromEntries(keys.map((k, i) => [k, values[i]])) };
  const secret = keys.filter((k) => ctx.hasSecret(args[k]) || ctx.hasSecret(state.values[k]));
  if (secret.length > 0) state.secretFields = secret.map((k) => `values.${k}`);
  return { known: true, state };
}

function changes(args: PostconfArgs, state: PostconfState, ctx: ModuleContext): Change[] {
  if (state.broken !== undefined) {
    throw new ModuleError(
      `main.cf on this host is already broken: Postfix cannot parse it (${state.broken}); every postconf command fails ` +
        'until it is repaired by hand, e.g. postconf -e KEY=VALUE for the parameter that holds it',
    );
  }
  const out: Change[] = [];
  for (const [key, want] of Object.entries(args)) {
    const have = state.values[key];
    if (have === want) continue;
    const target = `main.cf ${key}`;
    if (ctx.hasSecret(want) || ctx.hasSecret(have)) {
      out.push({ summary: `set ${key} (secret)`, target, secret: true });
    } else {
      const before = have === '' ? '(empty)' : have;
      out.push({ summary: `set ${key}: ${before} → ${want === '' ? '(empty)' : want}`, target, before: have, after: want });
    }
  }
  return out;
}

const CONF = '/etc/postfix';

/**
 * `postconf -e` writes any value, even one Postfix cannot parse, and exits 0;
 * from then on every postconf on the host fails. So the edit is made first on
 * a copy of main.cf (and master.cf, so postconf does not warn) in a private
 * temp directory, one key at a time, each followed by `postconf -c TMP -x -h
 * KEY`, which parses the whole file and expands the new value (exit 1 and
 * "fatal: macro processing error" when it cannot). Only when every key passed
 * does one `postconf -e` change the real main.cf (postconf writes it via a temp
 * file and rename). A failure names the key on stderr and exits 3 with
 * main.cf untouched; the temp directory is removed in every case.
 */
function checkedEdit(keys: string[], args: PostconfArgs): string {
  const assignments = keys.map((k) => `${k}=${args[k]}`);
  return [
    'export PATH="$PATH:/usr/sbin:/sbin"',
    'umask 077',
    'tmp=$(mktemp -d) || exit 1',
    `trap 'rm -rf "$tmp"' EXIT`,
    `trap 'exit 129' HUP INT TERM`,
    // The first diagnostic that says why, without the quoted value (it may be a secret).
    `why() { sed -nE 's/^[^ ]*postconf: (warning|fatal): //p' "$tmp/err" | grep -v -e 'unused parameter' -e 'undefined parameter' -e 'macro processing error' | sed -E 's/:? *"[^"]*" *$//' | head -n 1; }`,
    `if [ -f ${CONF}/main.cf ]; then cp ${CONF}/main.cf "$tmp/main.cf" || exit 1; else : > "$tmp/main.cf"; fi`,
    `if [ -f ${CONF}/master.cf ]; then cp ${CONF}/master.cf "$tmp/master.cf" || exit 1; fi`,
    `if ! postconf -c "$tmp" -h mail_version >/dev/null 2>"$tmp/err"; then echo "main.cf is already broken: Postfix cannot parse it ($(why)); main.cf was not changed" >&2; exit 3; fi`,
    `check() { if postconf -c "$tmp" -e -- "$2" 2>"$tmp/err" && postconf -c "$tmp" -x -h -- "$1" >/dev/null 2>"$tmp/err"; then return 0; fi; echo "Postfix cannot parse the new value of $1 ($(why)); main.cf was not changed" >&2; exit 3; }`,
    ...keys.map((k, i) => command('check', k, assignments[i])),
    command('postconf', '-e', '--', ...assignments),
  ].join('\n');
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
    return [{ kind: 'exec', command: checkedEdit(keys, args), describe: ctx.redact(`postconf -e ${keys.map((k) => `${k}=${args[k]}`).join(' ')}`) }];
  },
};
