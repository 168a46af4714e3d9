/**
 * Debian package facts: dpkg's status of packages (dpkg-query), the files
 * dpkg --verify finds missing or altered, apt-cache policy's candidates and
 * the age of the apt cache. Package names are the module's, already checked
 * against Debian policy; they still follow `--` everywhere.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, type Probed, SBIN_PATH } from './types.js';

/** Section headers: a snippet that did not run prints none, which is unknown rather than "nothing installed". */
const MARK = '::plumb-apt';
const ENV = `${SBIN_PATH} LC_ALL=C`;

export interface PackageStatus {
  /** dpkg's db:Status-Status (installed, config-files, half-configured, ...); null when dpkg does not know it. */
  status: string | null;
  version: string | null;
}

export interface FileProblem {
  path: string;
  /** `missing`, or `altered` (checksum differs). */
  issue: 'missing' | 'altered';
  conffile: boolean;
}

interface Packages {
  packages: string[];
}

/** dpkg prints package names without the :arch a task may ask for. */
function baseName(name: string): string {
  return name.split(':')[0];
}

/** Statuses dpkg considers installed (trigger states are installed packages waiting on a trigger). */
export const INSTALLED = new Set(['installed', 'triggers-awaited', 'triggers-pending']);

function words(p: Packages): string {
  return p.packages.map(quote).join(' ');
}

function unexpected(what: string, stdout: string): Probed<never> {
  return { known: false, reason: `unexpected probe output for ${what}: ${JSON.stringify(stdout.slice(0, 80))}` };
}

/** Prints `::plumb-apt status`, then dpkg-query lines `NAME<TAB>STATUS<TAB>VERSION`. */
export const dpkgStatus: Fact<Packages, Record<string, PackageStatus>> = {
  name: 'dpkg-status',
  summary: "dpkg's status and version of packages (dpkg-query)",
  probe: (p) => [ENV, `echo '${MARK} status'`, `dpkg-query -W -f='\${Package}\\t\${db:Status-Status}\\t\${Version}\\n' -- ${words(p)} 2>/dev/null`].join('\n'),
  parse(p, out) {
    const lines = out.stdout.split('\n');
    if (!lines.includes(`${MARK} status`)) return unexpected('apt', out.stdout);
    const packages: Record<string, PackageStatus> = {};
    for (const n of p.packages) packages[n] = { status: null, version: null };
    for (const line of lines) {
      const [pkg, status, version] = line.split('\t');
      if (version === undefined) continue;
      for (const n of p.packages) {
        // A multi-arch package may print one line per architecture: installed anywhere wins.
        const have = packages[n].status;
        if (baseName(n) === pkg && !(have !== null && INSTALLED.has(have))) packages[n] = { status, version: version === '' ? null : version };
      }
    }
    return { known: true, state: packages };
  },
};

/** One `dpkg --verify` line: 9 check characters, the conffile flag, the path. */
export function parseVerifyLine(line: string): FileProblem | undefined {
  const m = /^(.{9}) ([c ]) (\/.*)$/.exec(line);
  if (!m) return undefined;
  const checks = m[1].trim();
  const conffile = m[2] === 'c';
  if (checks === 'missing') return { path: m[3], issue: 'missing', conffile };
  return { path: m[3], issue: 'altered', conffile };
}

/** Prints `::plumb-apt verify NAME` and that package's dpkg --verify lines, per package. */
export const dpkgVerify: Fact<Packages, Record<string, FileProblem[]>> = {
  name: 'dpkg-verify',
  summary: 'files of installed packages that dpkg --verify finds missing or altered',
  probe: (p) =>
    [
      ENV,
      // One dpkg --verify for all packages first (each call loads dpkg's whole database,
      // ~4 ms of a converged host's probe per package). Clean and all installed (exit 0,
      // no output) means every package's section is empty; otherwise the per-package
      // run says which package each finding belongs to.
      `if __plumb_v=$(dpkg --verify -- ${words(p)} 2>/dev/null) && [ -z "$__plumb_v" ]; then`,
      `for p in ${words(p)}; do echo "${MARK} verify $p"; done`,
      'else',
      `for p in ${words(p)}; do echo "${MARK} verify $p"; dpkg --verify -- "$p" 2>/dev/null; done`,
      'fi',
    ].join('\n'),
  parse(p, out) {
    const problems: Record<string, FileProblem[]> = {};
    let current: string | undefined;
    for (const line of out.stdout.split('\n')) {
      if (line.startsWith(`${MARK} verify `)) {
        const name = line.slice(`${MARK} verify `.length);
        current = p.packages.includes(name) ? name : undefined;
        if (current) problems[current] = [];
        continue;
      }
      const problem = current ? parseVerifyLine(line) : undefined;
      if (problem) problems[current as string].push(problem);
    }
    return { known: true, state: problems };
  },
};

/** Prints `::plumb-apt policy` and apt-cache policy's output. */
export const aptPolicy: Fact<Packages & { release?: string }, Record<string, string | null>> = {
  name: 'apt-policy',
  summary: "apt-cache policy's candidate version of packages (null when apt has none), under apt's -t release when one is given",
  probe: (p) => [ENV, `echo '${MARK} policy'`, `apt-cache ${p.release ? `-t ${quote(p.release)} ` : ''}policy -- ${words(p)} 2>/dev/null`].join('\n'),
  parse(p, out) {
    const lines = out.stdout.split('\n');
    if (!lines.includes(`${MARK} policy`)) return unexpected('apt-cache policy', out.stdout);
    const candidates: Record<string, string | null> = Object.fromEntries(p.packages.map((n) => [n, null]));
    let heading: string | undefined;
    for (const line of lines) {
      const head = /^(\S+):$/.exec(line);
      if (head) heading = head[1];
      const cand = /^\s+Candidate: (.*)$/.exec(line);
      if (!cand || !heading) continue;
      for (const n of p.packages) if (n === heading || baseName(n) === heading) candidates[n] = cand[1] === '(none)' ? null : cand[1];
    }
    return { known: true, state: candidates };
  },
};

/** Written after every refresh plumb makes; apt's own hook (15update-stamp) touches it too where installed. */
export const APT_STAMP = '/var/lib/apt/periodic/update-success-stamp';

export interface CacheAge {
  /** Whether the last refresh is older than the valid time. */
  stale: boolean;
  /** When it was (ISO, UTC); null when never. */
  lastRefresh: string | null;
}

/**
 * Prints `::plumb-apt cache NOW MTIME` (epoch seconds; MTIME empty when none exists). The
 * value is staleness against `validTime`, not the clock, so a saved plan of a converged host
 * stays valid while the cache does.
 */
export const aptCacheAge: Fact<{ validTime: number }, CacheAge> = {
  name: 'apt-cache-age',
  summary: 'whether the apt cache was refreshed within validTime seconds, and when',
  probe: () => `echo "${MARK} cache $(date +%s) $(stat -c %Y ${APT_STAMP} /var/lib/apt/lists /var/cache/apt/pkgcache.bin 2>/dev/null | sort -n | tail -n 1)"`,
  parse(p, out) {
    const line = out.stdout.split('\n').find((l) => l.startsWith(`${MARK} cache `));
    if (!line) return { known: false, reason: 'apt cache age was not reported' };
    const [, , nowText, mtimeText] = line.split(' ');
    const now = Number(nowText);
    const mtime = mtimeText ? Number(mtimeText) : null;
    if (!Number.isFinite(now) || (mtime !== null && !Number.isFinite(mtime))) return { known: false, reason: 'apt cache age was not reported' };
    return { known: true, state: { stale: mtime === null || now - mtime > p.validTime, lastRefresh: mtime === null ? null : new Date(mtime * 1000).toISOString() } };
  },
};

export const dpkgStatusOf = (packages: string[]): FactRef<Record<string, PackageStatus>> => fact(dpkgStatus, { packages });
export const dpkgVerifyOf = (packages: string[]): FactRef<Record<string, FileProblem[]>> => fact(dpkgVerify, { packages });
export const aptPolicyOf = (packages: string[], release?: string): FactRef<Record<string, string | null>> => fact(aptPolicy, release ? { packages, release } : { packages });
export const aptCacheAgeOf = (validTime: number): FactRef<CacheAge> => fact(aptCacheAge, { validTime });
