/**
 * authorized_key: SSH public keys present in (or absent from) a user's
 * authorized_keys file, as ansible.posix.authorized_key edits it: the file is
 * parsed into keys (by their base64 blob), options and comments; a key whose
 * options or comment differ is rewritten at the end; `exclusive` drops every
 * other line. When anything changes the whole file is written again the way
 * Ansible serializes it (one space between fields; a key without a comment
 * keeps a trailing space), atomically, owned by the user, mode 0600, and the
 * directory (with manage_dir) is created or set to the user and 0700.
 *
 * Keys are public; key_options are treated as ordinary data.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { type AuthorizedKeysState, authorizedKeysOf } from '../facts/accounts.js';
import { command } from '../quote.js';
import { accountNameSchema, pySplitLines } from './accounts.js';
import { pathSchema } from './common.js';
import { unifiedDiff } from './files.js';
import { defineModule, known, ModuleError, type Planned, type Step, UnknownState } from './types.js';

export const authorizedKeyArgs = z.strictObject({
  user: accountNameSchema.describe('the user whose authorized_keys file is edited; it must exist'),
  key: z
    .string()
    .refine((k) => !k.includes('\0'), { message: 'contains a NUL byte' })
    .refine((k) => !/^http/.test(k), { message: 'plumb does not fetch keys from a URL: give the keys themselves (e.g. with a lookup)' })
    .describe('one or more public keys, one per line (lines starting with # are ignored)'),
  state: z.enum(['present', 'absent']).default('present').describe('present: the keys are in the file (with these options); absent: they are not'),
  exclusive: z.boolean().default(false).describe('with present: remove every other line of the file'),
  key_options: z
    .string()
    .refine((o) => !/[\n\r\0]/.test(o), { message: 'cannot hold a line break or a NUL' })
    .optional()
    .describe('ssh key options written before each key (e.g. no-port-forwarding,from="10.0.1.1"), replacing the options in `key`'),
  comment: z
    .string()
    .refine((o) => !/[\n\r\0]/.test(o), { message: 'cannot hold a line break or a NUL' })
    .optional()
    .describe("the comment written after each key, replacing the key's own"),
  path: pathSchema.optional().describe('the authorized_keys file (default ~USER/.ssh/authorized_keys)'),
  manage_dir: z.boolean().default(true).describe("create the file's directory if missing and set it to the user and mode 0700 when the file is written"),
});

export type AuthorizedKeyArgs = z.output<typeof authorizedKeyArgs>;

/** The key types Ansible recognizes; a line without one is kept as it is. */
const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss',
  'ssh-rsa',
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

/** Options in order; a name may repeat (from="a",from="b"). Null value: a flag such as no-pty. */
type Options = Array<[string, string | null]>;

interface Entry {
  /** The base64 blob of a key; for a line kept verbatim, the line itself. */
  id: string;
  /** Undefined: a line kept verbatim (a comment, a blank or unparsable line). */
  key?: { type: string; options: Options; comment: string };
  rank: number;
}

/** Ansible's option parser, including its reading of stray commas and quotes. */
export function parseOptions(text: string | undefined): Options {
  if (!text) return [];
  const parts = text.split(/((?:[^,"']|"[^"]*"|'[^']*')+)/).slice(1, -1);
  const out: Options = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq >= 0) out.push([part.slice(0, eq), part.slice(eq + 1)]);
    else if (part !== ',') out.push([part, null]);
  }
  return out;
}

/** Options compare as a dict of name → list of values: names in any order, repeated values in order. */
function sameOptions(a: Options, b: Options): boolean {
  const group = (o: Options) => {
    const m = new Map<string, Array<string | null>>();
    for (const [k, v] of o) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const x = group(a);
  const y = group(b);
  if (x.size !== y.size) return false;
  for (const [k, v] of x) {
    const w = y.get(k);
    if (!w || w.length !== v.length || v.some((e, i) => e !== w[i])) return false;
  }
  return true;
}

type Parsed = { kind: 'key'; id: string; type: string; options: Options; comment: string } | { kind: 'verbatim'; text: string } | { kind: 'invalid' };

/** One line, as Ansible's parsekey reads it (whitespace-split words; the first known key type starts the key). */
export function parseKeyLine(raw: string): Parsed {
  const line = raw.replaceAll('\\#', '#');
  const words = line.split(/[ \t\r\n]+/).filter((w) => w !== '');
  if (words[0] === '#') return { kind: 'verbatim', text: line };
  const at = words.findIndex((w) => KEY_TYPES.has(w));
  if (at < 0) return { kind: 'invalid' };
  if (at + 1 >= words.length) throw new ModuleError(`authorized_key: a ${words[at]} key without its key data: ${JSON.stringify(raw.trim())}`);
  return { kind: 'key', id: words[at + 1], type: words[at], options: parseOptions(at > 0 ? words.slice(0, at).join(' ') : undefined), comment: words.slice(at + 2).join(' ') };
}

/** The file as Ansible keeps it: an insertion-ordered map from blob (or verbatim line) to entry. */
function parseFile(text: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  pySplitLines(text, true).forEach((line, rank) => {
    const p = parseKeyLine(line);
    if (p.kind === 'key') entries.set(p.id, { id: p.id, key: { type: p.type, options: p.options, comment: p.comment }, rank });
    else if (p.kind === 'verbatim') entries.set(p.text, { id: p.text, rank });
    else entries.set(line, { id: line, rank });
  });
  return entries;
}

function serialize(entries: Map<string, Entry>): string {
  // Stable: equal ranks keep the map's order, as Python's sorted() does.
  const ordered = [...entries.values()].sort((a, b) => a.rank - b.rank);
  return ordered
    .map((e) => {
      if (!e.key) return e.id;
      const options = e.key.options.length ? e.key.options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',') + ' ' : '';
      return `${options}${e.key.type} ${e.id} ${e.key.comment}\n`;
    })
    .join('');
}

/** The new content, or undefined when Ansible would not write the file. */
export function editKeys(existing: string, args: Pick<AuthorizedKeyArgs, 'key' | 'state' | 'exclusive' | 'key_options' | 'comment'>): string | undefined {
  const entries = parseFile(existing);
  const wanted = pySplitLines(args.key).filter((s) => s !== '' && !s.startsWith('#'));
  const base = entries.size;
  const keep: string[] = [];
  let write = false;
  wanted.forEach((text, rank) => {
    const p = parseKeyLine(text);
    if (p.kind !== 'key') throw new ModuleError(`authorized_key: invalid key specified: ${JSON.stringify(text)}`);
    const want = { type: p.type, options: args.key_options !== undefined ? parseOptions(args.key_options) : p.options, comment: args.comment ?? p.comment };
    const have = entries.get(p.id);
    const same = have?.key !== undefined && have.key.type === want.type && sameOptions(have.key.options, want.options) && have.key.comment === want.comment;
    if (args.state === 'absent') {
      if (have) {
        entries.delete(p.id);
        write = true;
      }
      return;
    }
    keep.push(p.id);
    if (same) return;
    // A key with other options or comment is taken out and written again after the existing keys.
    entries.delete(p.id);
    entries.set(p.id, { id: p.id, key: want, rank: base + rank });
    write = true;
  });
  if (args.state === 'present' && args.exclusive) {
    for (const id of [...entries.keys()]) {
      if (!keep.includes(id)) {
        entries.delete(id);
        write = true;
      }
    }
  }
  return write ? serialize(entries) : undefined;
}

function plan(args: AuthorizedKeyArgs, state: AuthorizedKeysState): Planned[] {
  if (!state.user || !state.path || !state.file) throw new UnknownState(`user ${args.user} does not exist (yet?)`);
  const { file, path, user } = state;
  if (file.type === 'directory') throw new ModuleError(`authorized_key: ${path} is a directory`);
  if (file.type === 'link') throw new ModuleError(`authorized_key: ${path} is a symlink; plumb does not follow or replace it (Ansible's follow)`);
  if (file.type === 'other') throw new ModuleError(`authorized_key: ${path} is not a regular file`);
  const before = file.type === 'file' ? (file.content ?? '') : '';
  const after = editKeys(before, args);
  if (after === undefined) return [];
  const dir = posix.dirname(path);
  const owner = `${user.uid}:${user.gid}`;
  const steps: Step[] = [];
  if (args.manage_dir) {
    const mk = `if [ ! -e ${command(dir)} ]; then ${command('mkdir', '-m', '0700', '--', dir)}; fi && ${command('chown', '--', owner, dir)} && ${command('chmod', '0700', '--', dir)}`;
    steps.push({ kind: 'exec', command: mk, describe: `directory ${dir} (${user.name}, 0700)` });
  } else if (file.type === 'absent') {
    steps.push({ kind: 'exec', command: command('mkdir', '-p', '--', dir), describe: `mkdir -p ${dir}` });
  }
  steps.push({
    kind: 'write',
    path,
    content: after,
    mode: '0600',
    owner: String(user.uid),
    group: String(user.gid),
    describe: `write ${path} (${Buffer.byteLength(after)} bytes, ${user.name}, 0600)`,
  });
  const summary = file.type === 'absent' ? `create ${path}` : args.state === 'absent' ? 'remove keys' : 'update keys';
  return [{ change: { summary, target: path, diff: unifiedDiff(path, file.type === 'absent' ? undefined : before, after) }, steps }];
}

export const authorized_key = defineModule<AuthorizedKeyArgs, { keys: AuthorizedKeysState }>({
  name: 'authorized_key',
  summary: "SSH public keys in a user's authorized_keys file (ansible.posix.authorized_key: options, exclusive), written atomically as the user with mode 0600",
  schema: authorizedKeyArgs,
  differences: ['Not yet: a URL as `key` (give the keys themselves), `follow` and `validate_certs`; a keys file that is a symlink is refused.'],
  title: (a) => String(a.user ?? ''),
  facts: (args) => ({ keys: authorizedKeysOf(args.user, args.path) }),
  plan: (args, facts) => plan(args, known(facts.keys)),
});
