/**
 * A package's debconf questions as `debconf-show` (shipped by debconf
 * itself, so no debconf-utils) prints them, read exactly as Ansible's
 * debconf module reads them: `* question: value`, the star meaning seen.
 * debconf-show never prints a password (it shows "(password omitted)"), so
 * no secret ever reaches the controller through this fact.
 */
import { command } from '../quote.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

const MARK = '::plumb-debconf';
/** A package owns tens of questions; each value is one line. */
const CAP = 262144;

export interface DebconfQuestion {
  value: string;
  seen: boolean;
}

export const debconfShow: Fact<{ package: string }, Record<string, DebconfQuestion>> = {
  name: 'debconf-show',
  summary: "a package's debconf questions, their values and seen flags (debconf-show; passwords are never printed)",
  probe: (p) =>
    [
      `${SBIN_PATH} LC_ALL=C`,
      `command -v debconf-show >/dev/null 2>&1 || { echo '${MARK} none'; exit 0; }`,
      `__plumb_d=$(${command('debconf-show', '--', p.package)} 2>&1); __plumb_rc=$?`,
      `echo "${MARK} rc $__plumb_rc"`,
      `printf '%s\\n' "$__plumb_d" | head -c ${CAP} | sed 's/^/|/'`,
    ].join('\n'),
  parse(_p, out) {
    const lines = out.stdout.split('\n');
    if (lines.includes(`${MARK} none`)) return { known: false, reason: 'debconf-show is not installed (no debconf: not a Debian host?)' };
    const rc = lines.find((l) => l.startsWith(`${MARK} rc `));
    if (rc === undefined) return { known: false, reason: 'debconf-show did not report' };
    const body = lines.filter((l) => l.startsWith('|')).map((l) => l.slice(1));
    if (rc !== `${MARK} rc 0`) return { known: false, reason: `debconf-show failed: ${(body.find((l) => l.trim() !== '') ?? rc).slice(0, 200)}` };
    const questions: Record<string, DebconfQuestion> = {};
    for (const line of body) {
      const at = line.indexOf(':');
      if (at < 0) continue;
      const key = line.slice(0, at);
      // Ansible: key.strip('*').strip(), value.strip().
      const name = key.replace(/^\*+|\*+$/g, '').trim();
      if (name === '') continue;
      questions[name] = { value: line.slice(at + 1).trim(), seen: key.trimStart().startsWith('*') };
    }
    return { known: true, state: questions };
  },
};

export const debconfShowOf = (pkg: string): FactRef<Record<string, DebconfQuestion>> => fact(debconfShow, { package: pkg });
