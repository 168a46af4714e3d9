/**
 * Handler notifications that must survive a failed or interrupted run. Before
 * a task that notifies handlers changes anything, the handlers' names are
 * recorded on the host; they are cleared only after the handlers ran. So a
 * run that changed sasl_passwd and then lost its connection still runs
 * postmap and the restart next time (Ansible forgets them).
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Play, Playbook } from '../config/model.js';
import { quote } from '../quote.js';

/**
 * root keeps state in /var/lib/plumb; other users under their home.
 * PLUMB_STATE_DIR (in the host's environment) overrides both, for hosts with a
 * read-only /var and for tests of the local connection.
 */
const DIR = `"$(if [ -n "\${PLUMB_STATE_DIR:-}" ]; then echo "$PLUMB_STATE_DIR/pending"; elif [ "$(id -u)" = 0 ]; then echo /var/lib/plumb/pending; else echo "\${XDG_STATE_HOME:-$HOME/.local/state}/plumb/pending"; fi)"`;

/**
 * Where a play's owed handlers are kept on a host. The key is the play's
 * identity in one playbook: the playbook's resolved path (symlinks followed),
 * the play's name, and which play of that name it is (0 for the first), so
 * another playbook with a play of the same name never sees, runs or clears
 * them. Editing the playbook in place (tasks, handlers, play order) keeps the
 * key; moving or renaming the file, or renaming the play, starts a new one
 * (debts under the old key are then not run by the moved playbook).
 *
 * `legacy` is the key plumb used before: play name and host pattern. Such a
 * file, written by an older plumb, is still read (and cleared once the
 * handlers ran), so a debt from before an upgrade is paid rather than lost;
 * only new debts are written, under `key`.
 */
export interface PendingKeys {
  key: string;
  legacy: string;
}

function resolved(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolve(file);
  }
}

/** Every host of a play has the same keys: worked out once per play, not per host (a realpath and two hashes). */
const keysOfPlay = new WeakMap<Play, { playbook: Playbook; keys: PendingKeys }>();

export function pendingKeys(playbook: Playbook, play: Play): PendingKeys {
  const made = keysOfPlay.get(play);
  if (made?.playbook === playbook) return made.keys;
  const keys = computePendingKeys(playbook, play);
  keysOfPlay.set(play, { playbook, keys });
  return keys;
}

function computePendingKeys(playbook: Playbook, play: Play): PendingKeys {
  const index = playbook.plays.indexOf(play);
  const nth = playbook.plays.filter((p, i) => i < index && p.name === play.name).length;
  const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
  return {
    key: hash(`plumb-pending-v2\0${resolved(playbook.file)}\0${play.name}\0${nth}`),
    legacy: hash(`${play.name}\0${play.hosts}`),
  };
}

/** Prints each pending file (current, then legacy) on its own line. */
export function readPendingSnippet(keys: PendingKeys): string {
  return `d=${DIR}; for f in "$d"/${quote(keys.key + '.json')} "$d"/${quote(keys.legacy + '.json')}; do if [ -f "$f" ]; then cat "$f"; echo; fi; done`;
}

/** The union of the names in every line (each line is one pending file's JSON array). */
export function parsePending(stdout: string): string[] {
  const names = new Set<string>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line);
      if (Array.isArray(parsed)) for (const n of parsed) if (typeof n === 'string') names.add(n);
    } catch {
      // a damaged file owes nothing we can name
    }
  }
  return [...names];
}

/** Record the pending names; written to a temp file and renamed, like every file plumb writes. */
export function writePendingCommand(keys: PendingKeys): { command: string; content: (names: string[]) => string } {
  const file = `"$d"/${quote(keys.key + '.json')}`;
  return {
    // $$: two writers of one record (hosts that are the same machine) never share a temp file.
    command: `d=${DIR} && mkdir -p "$d" && umask 077 && cat > ${file}.tmp.$$ && mv -f ${file}.tmp.$$ ${file}`,
    content: (names) => JSON.stringify([...new Set(names)].sort()),
  };
}

export function clearPendingCommand(keys: PendingKeys): string {
  return `d=${DIR}; rm -f "$d"/${quote(keys.key + '.json')} "$d"/${quote(keys.legacy + '.json')}`;
}
