/**
 * A .deb file on the host: its Package, Version and Architecture (dpkg-deb
 * -f, dpkg's own tool, as Ansible's apt `deb` reads them) and dpkg's status
 * of that package. The control fields come from a file on the host and are
 * untrusted: each is checked before it is used, and the package name reaches
 * dpkg-query only as a quoted shell variable after `--`.
 */
import { quote } from '../quote.js';
import type { PackageStatus } from './dpkg.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

const MARK = '::plumb-deb';

export interface DebFile {
  package: string;
  version: string;
  architecture: string;
  /** dpkg's status of `package` (of `package:arch` for an arch-specific .deb). */
  installed: PackageStatus;
}

const NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSION = /^[A-Za-z0-9.+~:-]+$/;
const ARCH = /^[a-z0-9-]+$/;

export const debFile: Fact<{ path: string }, DebFile> = {
  name: 'deb-file',
  summary: "a .deb file's package, version and architecture (dpkg-deb -f) and dpkg's status of that package",
  probe: ({ path }) =>
    [
      `${SBIN_PATH} LC_ALL=C`,
      `echo '${MARK}'`,
      `if [ ! -f ${quote(path)} ]; then echo '${MARK} missing'; exit 0; fi`,
      `__plumb_n=$(dpkg-deb -f ${quote(path)} Package 2>/dev/null) && __plumb_v=$(dpkg-deb -f ${quote(path)} Version 2>/dev/null) && __plumb_a=$(dpkg-deb -f ${quote(path)} Architecture 2>/dev/null) || { echo '${MARK} unreadable'; exit 0; }`,
      `printf '|%s\\t%s\\t%s\\n' "$__plumb_n" "$__plumb_v" "$__plumb_a"`,
      `case "$__plumb_a" in all) __plumb_q=$__plumb_n ;; *) __plumb_q=$__plumb_n:$__plumb_a ;; esac`,
      `dpkg-query -W -f='=\${db:Status-Status}\\t\${Version}\\n' -- "$__plumb_q" 2>/dev/null`,
    ].join('\n'),
  parse({ path }, out) {
    const lines = out.stdout.split('\n');
    if (!lines.includes(MARK)) return { known: false, reason: `unexpected probe output for ${path}` };
    // Unknown, not an error: an earlier task (copy, get_url) may put it there; apply reads it again.
    if (lines.includes(`${MARK} missing`)) return { known: false, reason: `${path} does not exist (yet)` };
    if (lines.includes(`${MARK} unreadable`)) return { known: false, reason: `${path} is not a .deb dpkg-deb can read` };
    const fields = lines.find((l) => l.startsWith('|'));
    const [pkg = '', version = '', architecture = ''] = (fields ?? '').slice(1).split('\t');
    if (!NAME.test(pkg) || !VERSION.test(version) || !ARCH.test(architecture))
      return { known: false, reason: `${path}: its control fields are not a Debian package name, version and architecture` };
    const status = lines.find((l) => l.startsWith('='));
    const [state = '', have = ''] = (status ?? '=').slice(1).split('\t');
    return { known: true, state: { package: pkg, version, architecture, installed: { status: state === '' ? null : state, version: have === '' ? null : have } } };
  },
};

export const debFileOf = (path: string): FactRef<DebFile> => fact(debFile, { path });
