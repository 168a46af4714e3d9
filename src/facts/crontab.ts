/**
 * The crontab fact: a user's crontab as `crontab -l` prints it (the spool file is crontab's own
 * business: its header names a temporary file and a time, so only `crontab -l` is comparable).
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

/** A crontab larger than this is not read whole (the probe would carry it). */
export const CRONTAB_LIMIT = 1024 * 1024;

export interface CrontabState {
  /** `crontab -l`'s output; '' when the user has no crontab. */
  content: string;
  /** crontab's exit code: 0 with a crontab, 1 without one (or an error it printed). */
  rc: number;
}

/**
 * Prints `missing` (no crontab command), `nouser` (the user does not exist), or `out BASE64` of
 * crontab's stdout followed by the line `rc N`: the code rides at the end of the stream, so
 * content without a final newline keeps its exact bytes and a truncated read has no rc.
 */
export const crontab: Fact<{ user: string | null }, CrontabState> = {
  name: 'crontab',
  summary: "a user's crontab (crontab -l) and whether the crontab command and the user exist",
  probe: ({ user }) =>
    [
      SBIN_PATH,
      'if ! command -v crontab >/dev/null 2>&1; then echo missing',
      ...(user === null ? ['else'] : [`elif ! id -u -- ${quote(user)} >/dev/null 2>&1; then echo nouser`, 'else', `  u=${quote(user)}`]),
      `  printf 'out '; { LC_ALL=C crontab ${user === null ? '' : '-u "$u" '}-l </dev/null 2>/dev/null; echo "rc $?"; } | head -c ${CRONTAB_LIMIT + 16} | base64 -w 0; echo`,
      'fi',
    ].join('\n'),
  parse({ user }, { stdout }) {
    const who = user === null ? 'the connecting user' : `user ${user}`;
    const first = stdout.split('\n')[0];
    if (first === 'missing') return { known: false, reason: 'no crontab command on the host (cron not installed yet?)' };
    if (first === 'nouser') return { known: false, reason: `${who} does not exist (created by an earlier task?)` };
    if (!first.startsWith('out ')) return { known: false, reason: `unexpected probe output for the crontab of ${who}: ${JSON.stringify(stdout.slice(0, 80))}` };
    const bytes = Buffer.from(first.slice(4), 'base64');
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) return { known: false, reason: `the crontab of ${who} is not UTF-8 text` };
    const m = /rc (\d+)\n$/.exec(text);
    if (!m) return { known: false, reason: `the crontab of ${who} is larger than ${CRONTAB_LIMIT} bytes or could not be read` };
    return { known: true, state: { content: text.slice(0, m.index), rc: Number(m[1]) } };
  },
};

export const crontabOf = (user: string | undefined): FactRef<CrontabState> => fact(crontab, { user: user ?? null });
