/**
 * Accounts as NSS sees them (getent, as Ansible's pwd/grp lookups do): a
 * user's passwd entry, the groups a task names and the groups that list the
 * user, whether a home directory exists and, only when a task manages the
 * password, the state of its shadow entry.
 *
 * The shadow hash never leaves the host: the probe prints whether the entry
 * is locked (a leading !) and the sha256 of the hash without its ! marks,
 * which is all a plan needs to compare it with the desired hash.
 */
import { posix } from 'node:path';
import { quote } from '../quote.js';
import { fileProbe, parseFileProbe, type FileState } from './file.js';
import { fact, type Fact, type FactRef, type Probed } from './types.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface AccountState {
  /** Absent when NSS knows no such user. */
  user?: PasswdEntry;
  /** The groups asked about (by name or gid, as the task wrote them) that exist, by that spelling. */
  groups: Record<string, { name: string; gid: number }>;
  /** The names of the groups whose member list holds the user, in /etc/group order. */
  memberOf: string[];
  /** Whether the home directory the task manages exists (the given `home`, else the passwd entry's). */
  homeExists?: boolean;
  /** Read only when the task manages the password. `digest`: sha256 of the hash without leading ! marks. */
  shadow?: { locked: boolean; digest: string };
}

export interface AccountParams {
  name: string;
  /** Groups to look up, each a name or a gid. */
  groups: string[];
  /** Test whether this home exists; `passwd` tests the passwd entry's home. Omitted: no test. */
  home?: string;
  shadow: boolean;
}

function passwdLine(line: string): PasswdEntry | undefined {
  const f = line.split(':');
  if (f.length !== 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) return undefined;
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), comment: f[4], home: f[5], shell: f[6] };
}

function groupLine(line: string): GroupEntry | undefined {
  const f = line.split(':');
  if (f.length !== 4 || !/^\d+$/.test(f[2])) return undefined;
  return { name: f[0], gid: Number(f[2]), members: f[3] === '' ? [] : f[3].split(',') };
}

/** As Python's grp lookups: a numeric spelling is tried as a gid first, then as a name. */
export function findGroup(groups: GroupEntry[], spelled: string): GroupEntry | undefined {
  if (/^\d+$/.test(spelled)) {
    const byGid = groups.find((g) => g.gid === Number(spelled));
    if (byGid) return byGid;
  }
  return groups.find((g) => g.name === spelled);
}

/**
 * Prints `user absent` or `user ENTRY`; `group LINE` for every group (filtered by the parser, so a
 * plan keeps only the groups it asked about); `home 0|1`; with `shadow`, `shadow L DIGEST` or
 * `shadow unreadable`.
 */
export const account: Fact<AccountParams, AccountState> = {
  name: 'account',
  summary: "a user's passwd entry, the groups named and those that list the user, its home's existence and (for passwords) its shadow state",
  probe: ({ name, home, shadow }) =>
    [
      `n=${quote(name)}`,
      'if e=$(getent passwd -- "$n"); then printf "user %s\\n" "$e"; else echo "user absent"; e=; fi',
      'getent group | sed "s/^/group /"',
      ...(home === undefined
        ? []
        : [
            home === 'passwd' ? 'h=$(printf %s "$e" | cut -d: -f6)' : `h=${quote(home)}`,
            'if [ -n "$h" ] && { [ -e "$h" ] || [ -L "$h" ]; }; then echo "home 1"; else echo "home 0"; fi',
          ]),
      ...(shadow
        ? [
            'if [ -n "$e" ]; then',
            '  if [ ! -r /etc/shadow ]; then echo "shadow unreadable"; else',
            // No shadow entry reads as an empty hash, as Ansible's user_password() gives ''.
            '    s=$(getent shadow -- "$n" | cut -d: -f2); l=0',
            "    case $s in '!'*) l=1;; esac",
            "    while :; do case $s in '!'*) s=${s#!};; *) break;; esac; done",
            '    d=$(printf %s "$s" | sha256sum); s=; echo "shadow $l ${d%% *}"',
            '  fi',
            'fi',
          ]
        : []),
    ].join('\n'),
  parse({ name, groups: asked, home, shadow }, { stdout }) {
    const state: AccountState = { groups: {}, memberOf: [] };
    const all: GroupEntry[] = [];
    let sawUser = false;
    for (const line of stdout.split('\n')) {
      if (line.startsWith('user ')) {
        sawUser = true;
        const rest = line.slice(5);
        if (rest === 'absent') continue;
        const entry = passwdLine(rest);
        if (!entry || entry.name !== name) return { known: false, reason: `unexpected passwd entry for ${name}` };
        state.user = entry;
      } else if (line.startsWith('group ')) {
        const g = groupLine(line.slice(6));
        if (g) all.push(g);
      } else if (line === 'home 0' || line === 'home 1') {
        state.homeExists = line === 'home 1';
      } else if (line === 'shadow unreadable') {
        return { known: false, reason: `cannot read the shadow entry of ${name} (/etc/shadow needs root: become?)` };
      } else if (line.startsWith('shadow ')) {
        const m = /^shadow ([01]) ([0-9a-f]{64})$/.exec(line);
        if (!m) return { known: false, reason: `unexpected shadow probe output for ${name}` };
        state.shadow = { locked: m[1] === '1', digest: m[2] };
      }
    }
    if (!sawUser) return { known: false, reason: `unexpected probe output for user ${name}` };
    for (const spelled of asked) {
      const g = findGroup(all, spelled);
      if (g) state.groups[spelled] = { name: g.name, gid: g.gid };
    }
    state.memberOf = all.filter((g) => g.members.includes(name)).map((g) => g.name);
    if (home !== undefined && state.homeExists === undefined) return { known: false, reason: `unexpected probe output for user ${name}` };
    if (shadow && state.user && !state.shadow) return { known: false, reason: `unexpected probe output for user ${name}` };
    return { known: true, state };
  },
};

export const accountOf = (params: AccountParams): FactRef<AccountState> => fact(account, params);

/** A group as NSS sees it. */
export const groupEntry: Fact<{ name: string }, { exists: boolean; gid?: number }> = {
  name: 'group-entry',
  summary: 'whether a group exists and its gid (getent group)',
  probe: ({ name }) => `if e=$(getent group -- ${quote(name)}); then printf "group %s\\n" "$e"; else echo "group absent"; fi`,
  parse({ name }, { stdout }) {
    const line = stdout.split('\n').find((l) => l.startsWith('group '));
    if (line === undefined) return { known: false, reason: `unexpected probe output for group ${name}` };
    if (line === 'group absent') return { known: true, state: { exists: false } };
    const g = groupLine(line.slice(6));
    if (!g || g.name !== name) return { known: false, reason: `unexpected group entry for ${name}` };
    return { known: true, state: { exists: true, gid: g.gid } };
  },
};

export const groupEntryOf = (name: string): FactRef<{ exists: boolean; gid?: number }> => fact(groupEntry, { name });

export interface AuthorizedKeysState {
  /** Absent when NSS knows no such user. */
  user?: PasswdEntry;
  /** The keys file: `path` as given, else ~user/.ssh/authorized_keys. */
  path?: string;
  file?: FileState;
}

/** Keys files are small; a larger one is not fetched, and the fact is unknown. */
export const KEYS_FETCH_LIMIT = 1 << 20;
const PLACEHOLDER = '/plumb-keys-path';

/**
 * Prints the user's passwd entry, then (when the user exists) `path BASE64` and the file
 * fact's lines for the keys file: the default path lives in the home directory, which only
 * the host knows, so the path is computed in the probe itself.
 */
export const authorizedKeys: Fact<{ user: string; path?: string }, AuthorizedKeysState> = {
  name: 'authorized-keys',
  summary: "a user's passwd entry and the content, mode and owner of its authorized_keys file",
  probe({ user, path }) {
    const read = fileProbe(PLACEHOLDER, { hash: true, fetchLimit: KEYS_FETCH_LIMIT });
    const first = `p=${PLACEHOLDER}\n`;
    if (!read.startsWith(first)) throw new Error('the file probe no longer starts with its path assignment');
    return [
      `n=${quote(user)}`,
      'if ! e=$(getent passwd -- "$n"); then echo "user absent"; exit 0; fi',
      'printf "user %s\\n" "$e"',
      path === undefined ? 'p="$(printf %s "$e" | cut -d: -f6)/.ssh/authorized_keys"' : `p=${quote(path)}`,
      'printf "path "; printf %s "$p" | base64 -w 0; echo',
      read.slice(first.length),
    ].join('\n');
  },
  parse({ user }, { stdout }) {
    const lines = stdout.split('\n');
    const head = lines[0] ?? '';
    if (head === 'user absent') return { known: true, state: {} };
    if (!head.startsWith('user ')) return { known: false, reason: `unexpected probe output for user ${user}` };
    const entry = passwdLine(head.slice(5));
    if (!entry || entry.name !== user) return { known: false, reason: `unexpected passwd entry for ${user}` };
    const pathLine = lines.find((l) => l.startsWith('path '));
    if (pathLine === undefined) return { known: false, reason: `unexpected probe output for user ${user}` };
    const path = Buffer.from(pathLine.slice(5), 'base64').toString('utf8');
    if (!path.startsWith('/')) return { known: false, reason: `the home directory of ${user} is not an absolute path` };
    const file: Probed<FileState> = parseFileProbe(path, lines.filter((l) => !l.startsWith('user ') && !l.startsWith('path ')).join('\n'), { hash: true });
    if (!file.known) return file;
    if (file.state.type === 'file' && file.state.content === undefined) {
      return { known: false, reason: `${path} is larger than ${KEYS_FETCH_LIMIT} bytes or not UTF-8 text` };
    }
    return { known: true, state: { user: entry, path: posix.normalize(path), file: file.state } };
  },
};

export const authorizedKeysOf = (user: string, path: string | undefined): FactRef<AuthorizedKeysState> => fact(authorizedKeys, path === undefined ? { user } : { user, path });
