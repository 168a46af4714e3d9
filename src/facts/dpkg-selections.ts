/** dpkg's selection of a package (install, hold, deinstall, purge), as `dpkg --get-selections` prints it. */
import { command } from '../quote.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

const MARK = '::plumb-selections';

export interface Selection {
  /** null: dpkg does not know the package (Ansible's "not present"). */
  selection: string | null;
}

export const dpkgSelection: Fact<{ package: string }, Selection> = {
  name: 'dpkg-selection',
  summary: "dpkg's selection of a package: install, hold, deinstall or purge (dpkg --get-selections)",
  probe: (p) => [`${SBIN_PATH} LC_ALL=C`, `echo '${MARK}'`, `${command('dpkg', '--get-selections', '--', p.package)} 2>/dev/null | head -n 1`].join('\n'),
  parse(p, out) {
    const lines = out.stdout.split('\n');
    const at = lines.indexOf(MARK);
    if (at < 0) return { known: false, reason: `unexpected probe output for dpkg selection of ${p.package}` };
    const line = lines[at + 1] ?? '';
    if (line.trim() === '') return { known: true, state: { selection: null } };
    const [name, selection] = line.trim().split(/\s+/);
    if (name.split(':')[0] !== p.package.split(':')[0] || !/^(install|hold|deinstall|purge|unknown)$/.test(selection ?? '')) {
      return { known: false, reason: `unexpected dpkg --get-selections line for ${p.package}` };
    }
    return { known: true, state: { selection } };
  },
};

export const dpkgSelectionOf = (pkg: string): FactRef<Selection> => fact(dpkgSelection, { package: pkg });
