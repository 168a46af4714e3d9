/**
 * What an apt-get run would do, read with apt-get's own simulation (`-s`):
 * read-only (no lock with Debug::NoLocking, nothing written) and, on a
 * server's package lists, a second or two — paid only by a task that asks
 * for `upgrade` or a bare `autoremove`, so its plan can say which packages
 * change instead of "may change". apt-get's output is host data: only its
 * `Inst`/`Remv` lines are read, each field checked.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

const MARK = '::plumb-apt-sim';

export type SimulatedAction = 'upgrade' | 'dist-upgrade' | 'autoremove';

export interface SimulateParams {
  action: SimulatedAction;
  /** apt-get -t (default_release). */
  release?: string;
  /** Removals purge configuration too. */
  purge?: boolean;
}

export interface SimulatedChange {
  package: string;
  /** install: new; upgrade: a newer version; downgrade; remove. */
  kind: 'install' | 'upgrade' | 'remove';
  from: string | null;
  to: string | null;
}

/** The apt-get words of a simulated action, as shell words (Ansible's upgrade=yes|safe runs `upgrade --with-new-pkgs` without aptitude). */
function simulatedWords(p: SimulateParams): string[] {
  const words = ['-s', '-q', '-o', 'Debug::NoLocking=1'];
  if (p.release) words.push('-t', quote(p.release));
  if (p.purge) words.push('--purge');
  if (p.action === 'upgrade') words.push('upgrade', '--with-new-pkgs');
  else words.push(p.action);
  return words;
}

const NAME = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/;
const VERSION = /^[A-Za-z0-9.+~:-]+$/;

export const aptSimulate: Fact<SimulateParams, SimulatedChange[]> = {
  name: 'apt-simulate',
  summary: 'the packages an apt-get upgrade, dist-upgrade or autoremove would install, upgrade or remove (apt-get -s, read-only)',
  probe: (p) =>
    [
      `${SBIN_PATH} LC_ALL=C DEBIAN_FRONTEND=noninteractive`,
      `echo '${MARK}'`,
      // stderr joins stdout so apt's reason (E: ...) can be reported; only Inst/Remv lines are read as changes.
      `apt-get ${simulatedWords(p).join(' ')} 2>&1`,
      `echo "${MARK} rc $?"`,
    ].join('\n'),
  parse(_p, out) {
    const lines = out.stdout.split('\n');
    const rcLine = lines.find((l) => l.startsWith(`${MARK} rc `));
    if (!lines.includes(MARK) || rcLine === undefined) return { known: false, reason: 'apt-get -s did not report' };
    if (rcLine !== `${MARK} rc 0`) {
      const why = lines.find((l) => l.startsWith('E: ')) ?? rcLine.slice(MARK.length + 1);
      return { known: false, reason: `apt-get -s failed: ${why.slice(0, 200)}` };
    }
    const changes: SimulatedChange[] = [];
    for (const line of lines) {
      const inst = /^Inst (\S+) (?:\[(\S+)\] )?\((\S+) /.exec(line);
      if (inst && NAME.test(inst[1]) && VERSION.test(inst[3]) && (inst[2] === undefined || VERSION.test(inst[2]))) {
        changes.push({ package: inst[1], kind: inst[2] === undefined ? 'install' : 'upgrade', from: inst[2] ?? null, to: inst[3] });
        continue;
      }
      // With --purge apt-get prints Purg instead of Remv.
      const remv = /^(?:Remv|Purg) (\S+)(?: \[(\S+)\])?/.exec(line);
      if (remv && NAME.test(remv[1]) && (remv[2] === undefined || VERSION.test(remv[2]))) changes.push({ package: remv[1], kind: 'remove', from: remv[2] ?? null, to: null });
    }
    return { known: true, state: changes };
  },
};

export const aptSimulateOf = (params: SimulateParams): FactRef<SimulatedChange[]> => fact(aptSimulate, params);
