/**
 * Which package manager the host has, named as Ansible's `pkg_mgr` fact
 * names it (the same binaries, first found wins), for the `package` module:
 * a few `[ -e ]` tests instead of the whole host-facts probe.
 */
import { quote } from '../quote.js';
import { PACKAGE_MANAGERS, packageManager } from './host-facts.js';
import type { Fact } from './types.js';

const MARK = '::plumb-pkg-mgr';

export const pkgMgr: Fact<Record<string, never>, string> = {
  name: 'pkg-mgr',
  summary: "the host's package manager as Ansible's pkg_mgr fact names it (apt, dnf, yum, zypper, apk, pacman or unknown)",
  probe: () => [`echo '${MARK}'`, `for __plumb_b in ${Object.keys(PACKAGE_MANAGERS).map(quote).join(' ')}; do [ -e "$__plumb_b" ] && echo "|$__plumb_b"; done`, 'true'].join('\n'),
  parse(_p, out) {
    const lines = out.stdout.split('\n');
    if (!lines.includes(MARK)) return { known: false, reason: 'the package manager was not reported' };
    return { known: true, state: packageManager(lines.filter((l) => l.startsWith('|')).map((l) => l.slice(1))) };
  },
};
