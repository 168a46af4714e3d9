/**
 * Handler notifications that must survive a failed or interrupted run. Before
 * a task that notifies handlers changes anything, the handlers' names are
 * recorded on the host; they are cleared only after the handlers ran. So a
 * run that changed sasl_passwd and then lost its connection still runs
 * postmap and the restart next time (Ansible forgets them).
 */
import { createHash } from 'node:crypto';
import type { Play } from '../config/model.js';
import { quote } from '../shell.js';

/**
 * root keeps state in /var/lib/plumb; other users under their home.
 * PLUMB_STATE_DIR (in the host's environment) overrides both, for hosts with a
 * read-only /var and for tests of the local connection.
 */
const DIR = `"$(if [ -n "\${PLUMB_STATE_DIR:-}" ]; then echo "$PLUMB_STATE_DIR/pending"; elif [ "$(id -u)" = 0 ]; then echo /var/lib/plumb/pending; else echo "\${XDG_STATE_HOME:-$HOME/.local/state}/plumb/pending"; fi)"`;

export function pendingKey(play: Play): string {
  return createHash('sha256').update(`${play.name}\0${play.hosts}`).digest('hex').slice(0, 16);
}

export function readPendingSnippet(play: Play): string {
  return `f=${DIR}/${pendingKey(play)}.json; if [ -f "$f" ]; then cat "$f"; fi`;
}

export function parsePending(stdout: string): string[] {
  if (!stdout.trim()) return [];
  try {
    const names = JSON.parse(stdout);
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

/** Record the pending names; written to a temp file and renamed, like every file plumb writes. */
export function writePendingCommand(play: Play): { command: string; content: (names: string[]) => string } {
  const file = `"$d"/${pendingKey(play)}.json`;
  return {
    command: `d=${DIR} && mkdir -p "$d" && umask 077 && cat > ${file}.tmp && mv -f ${file}.tmp ${file}`,
    content: (names) => JSON.stringify([...new Set(names)].sort()),
  };
}

export function clearPendingCommand(play: Play): string {
  return `rm -f ${DIR}/${quote(pendingKey(play) + '.json')}`;
}
