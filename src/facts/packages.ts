/**
 * Installed packages as Ansible's package_facts lists them with its apt
 * manager (python-apt's cache): name → the installed versions, each
 * {name, version, arch, category, source: 'apt'}, read from dpkg's own
 * database with one awk pass. A package of a foreign architecture is named
 * `name:arch`, as python-apt names it. Ansible also gives each an `origin`
 * (the first apt source of the installed version), which needs apt's lists:
 * plumb leaves it out.
 */
import { type Fact, SBIN_PATH } from './types.js';

export interface PackageFact {
  name: string;
  version: string;
  arch: string;
  category: string;
  source: 'apt';
}

export type Packages = Record<string, PackageFact[]>;

const MARK = '::plumb-packages';
/** A large desktop has ~5000 packages at ~70 bytes a line. */
const CAP = 4 << 20;

/**
 * dpkg's states with an installed version (apt gives a package a current version in every state
 * but not-installed and config-files).
 */
const NOT_INSTALLED = new Set(['not-installed', 'config-files']);

const STATUS = '/var/lib/dpkg/status';

function packagesProbe(): string {
  // One line per stanza: |name TAB version TAB arch TAB state TAB section. Fields are single words in
  // dpkg's format; awk's $2 keeps any stray whitespace out of them.
  const awk = [
    'function out() { if (p != "") print "|" p "\\t" v "\\t" a "\\t" s "\\t" c; p = v = a = s = c = "" }',
    '/^Package:/ { p = $2 }',
    '/^Version:/ { v = $2 }',
    '/^Architecture:/ { a = $2 }',
    '/^Status:/ { s = $4 }',
    '/^Section:/ { c = $2 }',
    '/^$/ { out() }',
    'END { out() }',
  ].join(' ');
  return [
    SBIN_PATH,
    `[ -r ${STATUS} ] || { echo '${MARK} none'; exit 0; }`,
    `echo "${MARK} arch $(dpkg --print-architecture 2>/dev/null)"`,
    `awk '${awk}' ${STATUS} | head -c ${CAP}`,
  ].join('\n');
}

export const packages: Fact<Record<string, never>, Packages> = {
  name: 'packages',
  summary: "installed packages and their versions from dpkg's database, as Ansible's package_facts lists them",
  probe: packagesProbe,
  parse(_params, { stdout }) {
    const lines = stdout.split('\n');
    if (lines.includes(`${MARK} none`)) return { known: false, reason: `no dpkg database (${STATUS}): plumb's package_facts reads apt/dpkg only` };
    const head = lines.find((l) => l.startsWith(`${MARK} arch `));
    if (head === undefined) return { known: false, reason: `unexpected probe output for packages: ${JSON.stringify(stdout.slice(0, 80))}` };
    const native = head.slice(`${MARK} arch `.length).trim();
    const out: Packages = Object.create(null) as Packages;
    for (const line of lines) {
      if (!line.startsWith('|')) continue;
      const [pkg, version, arch, state, category = ''] = line.slice(1).split('\t');
      if (!pkg || !version || !arch || state === undefined || NOT_INSTALLED.has(state) || state === '') continue;
      const name = arch === native || arch === 'all' || native === '' ? pkg : `${pkg}:${arch}`;
      (out[name] ??= []).push({ name, version, arch, category, source: 'apt' });
    }
    return { known: true, state: { ...out } };
  },
};
