/**
 * The ufw fact: `ufw status verbose`, the `### tuple` lines of ufw's user rules files (what
 * Ansible compares), the settings ufw keeps in its configuration (ENABLED, LOGLEVEL, the default
 * policies; `status` hides them while ufw is inactive) and, for a rule, what `ufw --dry-run RULE`
 * prints: ufw's own matching decides whether the rule is there, as Ansible's check mode asks it.
 * --dry-run takes no lock, loads nothing into the kernel and writes no rules file.
 */
import { command } from '../quote.js';
import { section, sections } from './sections.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

export interface UfwState {
  /** `ufw status verbose`'s output. */
  status: string;
  /** The `### tuple ###` lines of the user rules files, in Ansible's file order. */
  rules: string[];
  /** KEY=value settings from /etc/ufw/ufw.conf and /etc/default/ufw, quotes removed. */
  settings: Record<string, string>;
  /** `ufw --dry-run RULE`'s output lines, when a rule was asked about. */
  dryRun?: string[];
}

const MARK = '@@plumb-ufw';
/** Ansible's list, in its order: grep reads whichever exist. */
const RULES_FILES = ['/lib/ufw/user.rules', '/lib/ufw/user6.rules', '/etc/ufw/user.rules', '/etc/ufw/user6.rules', '/var/lib/ufw/user.rules', '/var/lib/ufw/user6.rules'];

export const ufw: Fact<{ dryRun: string[] | null }, UfwState> = {
  name: 'ufw',
  summary: "ufw's status, its user rules (### tuple lines), its settings and, for a rule, what ufw --dry-run says it would do",
  probe: ({ dryRun }) =>
    [
      SBIN_PATH,
      'if ! command -v ufw >/dev/null 2>&1; then echo missing; else',
      section(MARK, 'status', 'LC_ALL=C ufw status verbose </dev/null'),
      section(MARK, 'rules', `grep -h '^### tuple' ${RULES_FILES.join(' ')}`),
      section(MARK, 'settings', "grep -h -E '^(ENABLED|LOGLEVEL|DEFAULT_[A-Z_]+_POLICY|IPV6)=' /etc/ufw/ufw.conf /etc/default/ufw"),
      ...(dryRun === null ? [] : [section(MARK, 'dryrun', `LC_ALL=C ${command('ufw', '--dry-run', ...dryRun)} </dev/null`)]),
      'fi',
    ].join('\n'),
  parse({ dryRun }, { stdout }) {
    if (stdout.split('\n')[0] === 'missing') return { known: false, reason: 'no ufw command on the host (ufw not installed yet?)' };
    const found = sections(MARK, stdout);
    const status = found.get('status');
    const rules = found.get('rules');
    const settings = found.get('settings');
    if (status === undefined || rules === undefined || settings === undefined || (dryRun !== null && !found.has('dryrun')))
      return { known: false, reason: `unexpected probe output for ufw: ${JSON.stringify(stdout.slice(0, 80))}` };
    if (!status.some((l) => l.startsWith('Status: '))) return { known: false, reason: `ufw status gave no status: ${JSON.stringify(status.join('\n').slice(0, 120))}` };
    const values: Record<string, string> = {};
    for (const line of settings) {
      const m = /^([A-Z_0-9]+)=(.*)$/.exec(line);
      if (m) values[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    }
    const state: UfwState = { status: status.filter((l) => l !== '').join('\n'), rules: rules.filter((l) => l !== ''), settings: values };
    if (dryRun !== null) state.dryRun = (found.get('dryrun') as string[]).filter((l) => l !== '');
    return { known: true, state };
  },
};

export const ufwOf = (dryRun: string[] | undefined): FactRef<UfwState> => fact(ufw, { dryRun: dryRun ?? null });
