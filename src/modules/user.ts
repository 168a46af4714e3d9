/**
 * user: a local account made, changed or removed with shadow's useradd,
 * usermod and userdel, deciding as Ansible's user module decides (the same
 * options for the same differences), so a host converges to the same
 * /etc/passwd, /etc/group, /etc/shadow and home directory.
 *
 * The password is a crypt hash and always a secret, whatever variable it came
 * from: a plan says "set password (secret)", the hash goes to `chpasswd -e` on
 * stdin (never on a command line, where ps would show it), and the host's hash
 * is compared by a digest made on the host (see facts/accounts.ts).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';
import { type AccountState, accountOf } from '../facts/accounts.js';
import { SBIN_PATH } from '../facts/types.js';
import { command, quote } from '../quote.js';
import { accountNameSchema, idSchema, passwdFieldSchema } from './accounts.js';
import { pathSchema } from './common.js';
import { type Change, defineModule, known, type Planned, type Step, UnknownState } from './types.js';

/** Ansible's list type: a list, or one comma-separated string; each item split on commas, trimmed, empties dropped. */
const groupListSchema = z
  .union([z.string(), z.array(z.union([z.string(), z.number()]))])
  .transform((v) =>
    (Array.isArray(v) ? v.map(String) : [v])
      .join(',')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== ''),
  )
  .refine((gs) => gs.every((g) => /^[A-Za-z0-9_.$-]+$/.test(g) && !g.startsWith('-')), { message: 'each group is a group name or gid' });

export const userArgs = z
  .strictObject({
    name: accountNameSchema.describe('the user name'),
    state: z.enum(['present', 'absent']).default('present').describe('present: the account exists as described; absent: it does not'),
    uid: idSchema.optional().describe('the user id'),
    non_unique: z.boolean().default(false).describe('with uid: allow a uid another account already has (useradd/usermod -o)'),
    group: z
      .union([accountNameSchema, z.string().regex(/^\d+$/), z.number().int().nonnegative()])
      .transform(String)
      .optional()
      .describe('the primary group, a name or gid; it must exist'),
    groups: groupListSchema.optional().describe('supplementary groups (a list or a comma-separated string); they must exist. Empty removes all, unless append'),
    append: z.boolean().default(false).describe('add the user to `groups` without removing it from others'),
    comment: passwdFieldSchema.optional().describe('the GECOS field, e.g. the full name'),
    home: pathSchema
      .refine((p) => !p.includes(':'), { message: 'cannot hold a colon' })
      .optional()
      .describe('the home directory'),
    shell: passwdFieldSchema.optional().describe('the login shell'),
    create_home: z.boolean().default(true).describe("create the home directory (from the skeleton) when it is missing, as on a new user's creation"),
    move_home: z.boolean().default(false).describe('when `home` changes, move the old home directory there (usermod -m)'),
    skeleton: pathSchema.optional().describe('the skeleton directory a new home is copied from (default /etc/skel)'),
    system: z.boolean().default(false).describe('a system account (uid below UID_MIN; no aging); only when the user is created'),
    password: z
      .string()
      .refine((p) => !/[:\n\r\0]/.test(p), { message: 'a password hash cannot hold a colon, a line break or a NUL' })
      .optional()
      .describe('the password as a crypt hash (e.g. from `password_hash`), never plain text; always treated as a secret'),
    update_password: z.enum(['always', 'on_create']).default('always').describe('always: set `password` when it differs; on_create: only when the user is created'),
    password_lock: z.boolean().optional().describe('true: lock the password (a ! before the hash); false: unlock it'),
    remove: z.boolean().default(false).describe('with state absent: remove the home directory and mail spool too (userdel -r)'),
    force: z.boolean().default(false).describe('with state absent: remove the user even while logged in (userdel -f)'),
  })
  .refine((a) => !a.non_unique || a.uid !== undefined, { message: 'non_unique needs uid' });

export type UserArgs = z.output<typeof userArgs>;

/** A hash without Ansible's leading ! marks (a lock), as compared with the host's. */
const unlocked = (hash: string): string => hash.replace(/^!+/, '');
const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** What the task needs looked up: the groups it names and, when no primary group is given, the user's own name (useradd -N). */
function groupsToFind(args: UserArgs): string[] {
  return [...new Set([...(args.group !== undefined ? [args.group] : [args.name]), ...(args.groups ?? [])])];
}

function missingGroup(args: UserArgs, state: AccountState): void {
  for (const g of [...(args.group !== undefined ? [args.group] : []), ...(args.groups ?? [])]) {
    if (state.groups[g] === undefined) throw new UnknownState(`group ${g} does not exist (yet?)`);
  }
}

/** The password field to set: the hash, locked when password_lock is true. */
const passwordField = (args: UserArgs, password: string): string => (args.password_lock ? `!${password}` : password);

function passwordStep(name: string, field: string): Step {
  return { kind: 'exec', command: `${SBIN_PATH}; chpasswd -e`, stdin: `${name}:${field}\n`, describe: `set the password of ${name} (secret)` };
}

const passwordChange = (name: string): Change => ({ summary: 'set password (secret)', target: `user ${name} password`, secret: true });

function create(args: UserArgs, state: AccountState): Planned[] {
  missingGroup(args, state);
  const flags: Array<string | number> = [];
  if (args.uid !== undefined) flags.push('-u', args.uid, ...(args.non_unique ? ['-o'] : []));
  if (args.group !== undefined) flags.push('-g', args.group);
  // A group of the user's name already exists: useradd must not try to make one (USERGROUPS_ENAB).
  else if (state.groups[args.name] !== undefined) flags.push('-N');
  const groups = [...new Set(args.groups ?? [])];
  if (groups.length > 0) flags.push('-G', groups.join(','));
  if (args.comment !== undefined) flags.push('-c', args.comment);
  if (args.home !== undefined) flags.push('-d', args.home);
  if (args.shell !== undefined) flags.push('-s', args.shell);
  if (args.create_home) flags.push('-m', ...(args.skeleton !== undefined ? ['-k', args.skeleton] : []));
  else flags.push('-M');
  if (args.system) flags.push('-r');
  let cmd = `${SBIN_PATH}; ${command('useradd', ...flags, '--', args.name)}`;
  // useradd makes the home but not its parents; Ansible makes them first too.
  if (args.home !== undefined && args.create_home)
    cmd = `${SBIN_PATH}; ${command('mkdir', '-p', '--', posix.dirname(args.home))} && ${command('useradd', ...flags, '--', args.name)}`;
  const shown = [
    args.uid !== undefined ? `uid ${args.uid}` : '',
    args.group !== undefined ? `group ${args.group}` : '',
    groups.length > 0 ? `groups ${groups.join(',')}` : '',
    args.home !== undefined ? `home ${args.home}` : '',
    args.shell !== undefined ? `shell ${args.shell}` : '',
    args.system ? 'system' : '',
    args.create_home ? '' : 'no home',
  ].filter(Boolean);
  const out: Planned[] = [
    {
      change: { summary: `create user ${args.name}${shown.length ? ` (${shown.join(', ')})` : ''}`, target: `user ${args.name}`, before: 'absent', after: 'present' },
      steps: [{ kind: 'exec', command: cmd, describe: `useradd ${args.name}` }],
    },
  ];
  if (args.password !== undefined) out.push({ change: passwordChange(args.name), steps: [passwordStep(args.name, passwordField(args, args.password))] });
  return out;
}

/** Copy the skeleton into a missing home, as Ansible's create_homedir (mode from login.defs UMASK) and chown_homedir do. */
function createHomeCommand(home: string, skeleton: string, uid: number, gid: number): string {
  return [
    `h=${quote(home)}; k=${quote(skeleton)}`,
    'if [ ! -e "$h" ] && [ ! -L "$h" ]; then',
    '  if [ -e "$k" ]; then mkdir -p -- "$(dirname -- "$h")" && cp -R -p -- "$k" "$h"; else mkdir -p -- "$h"; fi || exit 1',
    "  u=$(sed -n 's/^UMASK[[:space:]]\\{1,\\}\\([0-7]\\{1,\\}\\)[[:space:]]*$/\\1/p' /etc/login.defs 2>/dev/null | tail -n 1)",
    '  if [ -n "$u" ]; then chmod "$(printf %o $((0777 & ~0$u)))" -- "$h" || exit 1; fi',
    `  chown -R -- ${uid}:${gid} "$h"`,
    'fi',
  ].join('\n');
}

function modify(args: UserArgs, state: AccountState): Planned[] {
  const user = state.user as NonNullable<AccountState['user']>;
  missingGroup(args, state);
  const flags: Array<string | number> = [];
  const changes: Change[] = [];
  const target = `user ${args.name}`;
  const set = (what: string, before: unknown, after: unknown) =>
    changes.push({ summary: `${what}: ${String(before)} → ${String(after)}`, target: `${target} ${what}`, before, after });

  if (args.uid !== undefined && args.uid !== user.uid) {
    flags.push('-u', args.uid, ...(args.non_unique ? ['-o'] : []));
    set('uid', user.uid, args.uid);
  }
  let gid = user.gid;
  if (args.group !== undefined) {
    const g = state.groups[args.group];
    if (g.gid !== user.gid) {
      flags.push('-g', g.gid);
      set('group', user.gid, `${g.name} (${g.gid})`);
      gid = g.gid;
    }
  }
  if (args.groups !== undefined) {
    const current = state.memberOf;
    const wanted = [...new Set(args.groups)];
    let needed: boolean;
    if (wanted.length === 0) needed = current.length > 0 && !args.append;
    else {
      const differ = [...wanted.filter((g) => !current.includes(g)), ...current.filter((g) => !wanted.includes(g))];
      needed = args.append ? wanted.some((g) => differ.includes(g)) : differ.length > 0;
    }
    if (needed) {
      if (args.append) flags.push('-a');
      flags.push('-G', wanted.join(','));
      const after = args.append ? [...current, ...wanted.filter((g) => !current.includes(g))] : wanted;
      set('groups', current.join(',') || '(none)', after.join(',') || '(none)');
    }
  }
  if (args.comment !== undefined && args.comment !== user.comment) {
    flags.push('-c', args.comment);
    set('comment', JSON.stringify(user.comment), JSON.stringify(args.comment));
  }
  if (args.home !== undefined && args.home !== user.home) {
    flags.push('-d', args.home, ...(args.move_home ? ['-m'] : []));
    set(args.move_home ? 'home (moved)' : 'home', user.home, args.home);
  }
  if (args.shell !== undefined && args.shell !== user.shell) {
    flags.push('-s', args.shell);
    set('shell', user.shell, args.shell);
  }

  const shadow = state.shadow;
  let lock: '-L' | '-U' | undefined;
  if (shadow && args.password_lock === true && !shadow.locked) lock = '-L';
  else if (shadow && args.password_lock === false && shadow.locked) lock = '-U';
  const setPassword = args.update_password === 'always' && args.password !== undefined && shadow !== undefined && digest(unlocked(args.password)) !== shadow.digest;
  // As Ansible: a new hash is set with its lock in one go, so -L/-U are not needed then.
  if (lock && !setPassword) {
    flags.push(lock);
    changes.push({ summary: lock === '-L' ? 'lock password' : 'unlock password', target: `${target} password lock`, before: shadow?.locked, after: lock === '-L' });
  }

  const steps: Step[] = [];
  if (flags.length > 0) {
    const line = `${SBIN_PATH}; ${command('usermod', ...flags, '--', args.name)}`;
    steps.push({ kind: 'exec', command: line, describe: `usermod ${args.name}` });
  }
  const out: Planned[] = changes.map((change, i) => ({ change, steps: i === 0 ? steps : [] }));
  if (setPassword) out.push({ change: passwordChange(args.name), steps: [passwordStep(args.name, passwordField(args, args.password as string))] });

  // Ansible looks at the home after the changes above: the given one, else the account's.
  if (args.create_home && state.homeExists === false) {
    const home = args.home ?? user.home;
    out.push({
      change: { summary: `create home ${home}`, target: `${target} home`, before: 'absent', after: 'directory' },
      steps: [{ kind: 'exec', command: createHomeCommand(home, args.skeleton ?? '/etc/skel', args.uid ?? user.uid, gid), describe: `create home ${home}` }],
    });
  }
  return out;
}

export const user = defineModule<UserArgs, { account: AccountState }>({
  name: 'user',
  summary: 'a local user account (useradd/usermod/userdel as Ansible decides), its groups, home and password hash (a secret)',
  schema: userArgs,
  aliases: { user: 'name', createhome: 'create_home' },
  differences: [
    'Not yet: `expires`, `password_expire_max`/`_min`, `generate_ssh_key` and the ssh_key_* options, `login_class`, `local`, `seuser`, `umask`, `hidden` and the other non-Linux options; each is refused when the playbook is checked.',
    'The password hash is set with `chpasswd -e` on stdin rather than `useradd/usermod -p` on the command line; the resulting /etc/shadow entry is the same.',
  ],
  title: (a) => [a.name, a.state === 'absent' ? 'absent' : undefined].filter((x) => x !== undefined).join(' '),
  facts: (args) => ({
    account: accountOf({
      name: args.name,
      groups: args.state === 'present' ? groupsToFind(args) : [],
      ...(args.state === 'present' && args.create_home ? { home: args.home ?? 'passwd' } : {}),
      shadow: args.state === 'present' && (args.password !== undefined || args.password_lock !== undefined),
    }),
  }),
  plan(args, facts) {
    const state = known(facts.account);
    if (args.state === 'absent') {
      if (!state.user) return [];
      const flags = [...(args.force ? ['-f'] : []), ...(args.remove ? ['-r'] : [])];
      return [
        {
          change: { summary: `remove user ${args.name}${args.remove ? ' and its home' : ''}`, target: `user ${args.name}`, before: 'present', after: 'absent' },
          steps: [{ kind: 'exec', command: `${SBIN_PATH}; ${command('userdel', ...flags, '--', args.name)}`, describe: `userdel ${args.name}` }],
        },
      ];
    }
    return state.user ? modify(args, state) : create(args, state);
  },
  // The shadow digest is made from the hash: a saved plan keys its fingerprint by the secrets.
  secretFacts: (args, facts) => (facts.account.known && facts.account.state.shadow !== undefined ? ['account.shadow'] : []),
});
