/**
 * postconf: main.cf parameters, read with `postconf -h` and set with
 * `postconf -e`. Values compare exactly as postconf prints them (unexpanded).
 * Before postfix is installed the fact is unknown, so the engine reads it
 * again once the apt task has run.
 */
import { z } from 'zod';
import { type PostconfValues, postconfValuesOf } from '../facts/postconf.js';
import { SBIN_PATH } from '../facts/types.js';
import { command } from '../quote.js';
import { batchItems } from './contract.js';
import { defineModule, known, ModuleError, type Planned } from './types.js';

export const postconfArgs = z
  .record(
    z.string(),
    z
      .union([z.string(), z.number(), z.boolean()])
      .transform((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)))
      .refine((v) => !v.includes('\n'), { message: 'a main.cf value must be a single line' })
      .refine((v) => !v.includes('\0'), { message: 'contains a NUL byte' })
      // postconf -e trims it, so such a value could never compare equal and would change on every run.
      .refine((v) => v === v.trim(), { message: 'a main.cf value cannot start or end with whitespace (postconf trims it)' })
      .describe('the value postconf -h must print (booleans become yes/no)'),
  )
  // Checked here rather than as the record's key schema so the message names the key (zod reports key errors as "Invalid key in record").
  .superRefine((r, ctx) => {
    for (const key of Object.keys(r)) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(key)}: main.cf parameter names are letters, digits and _ (e.g. smtp_tls_CApath)` });
      }
    }
  })
  .refine((r) => Object.keys(r).length > 0, { message: 'postconf needs at least one main.cf parameter' })
  .describe('a map of main.cf parameter names to values, e.g. relayhost: "[smtp.gmail.com]:587"');

export type PostconfArgs = z.output<typeof postconfArgs>;

const CONF = '/etc/postfix';
const SET = 'set';

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
    SBIN_PATH,
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

function plan(args: PostconfArgs, conf: PostconfValues, hasSecret: (t: string) => boolean): Planned[] {
  if (conf.broken !== undefined) {
    throw new ModuleError(
      `main.cf on this host is already broken: Postfix cannot parse it (${conf.broken}); every postconf command fails ` +
        'until it is repaired by hand, e.g. postconf -e KEY=VALUE for the parameter that holds it',
    );
  }
  const out: Planned[] = [];
  for (const [key, want] of Object.entries(args)) {
    const have = conf.values[key];
    if (have === want) continue;
    const target = `main.cf ${key}`;
    // Every key is one item of the one checked edit.
    const steps = [{ kind: 'batch' as const, group: SET, item: key, describe: `postconf -e ${key}` }];
    if (hasSecret(want) || hasSecret(have)) {
      out.push({ change: { summary: `set ${key} (secret)`, target, secret: true }, steps });
    } else {
      const before = have === '' ? '(empty)' : have;
      out.push({ change: { summary: `set ${key}: ${before} → ${want === '' ? '(empty)' : want}`, target, before: have, after: want }, steps });
    }
  }
  return out;
}

export const postconf = defineModule<PostconfArgs, { conf: PostconfValues }>({
  name: 'postconf',
  summary: 'main.cf parameters, compared exactly with postconf -h and set in one checked postconf -e; unknown until postfix is installed',
  schema: postconfArgs,
  title: (args) => Object.keys(args).join(', '),
  facts: (args) => ({ conf: postconfValuesOf(Object.keys(args)) }),
  plan: (args, facts, ctx) => plan(args, known(facts.conf), ctx.hasSecret),
  merge(steps, args, ctx) {
    const keys = batchItems(steps, SET);
    if (keys.length === 0) return steps;
    return [
      ...steps.filter((s) => s.kind !== 'batch'),
      { kind: 'exec', command: checkedEdit(keys, args), describe: ctx.redact(`postconf -e ${keys.map((k) => `${k}=${args[k]}`).join(' ')}`) },
    ];
  },
  secretFacts(args, facts, ctx) {
    if (!facts.conf.known) return [];
    const values = facts.conf.state.values;
    return Object.keys(args)
      .filter((k) => ctx.hasSecret(args[k]) || (values[k] !== undefined && ctx.hasSecret(values[k])))
      .map((k) => `conf.values.${k}`);
  },
});
