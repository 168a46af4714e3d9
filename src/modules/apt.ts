/**
 * apt: Debian packages present, absent or at the candidate version, read with
 * dpkg-query (and apt-cache policy for `latest`). `verify: true` also checks
 * installed packages' files with `dpkg --verify` and reinstalls a package
 * whose files are missing or altered — the seed's deleted libplain.so.
 */
import { z } from 'zod';
import { command, quote } from '../shell.js';
import type { Change, Module, Probed, Step } from './types.js';

/**
 * Debian policy §5.6.7: lowercase letters, digits, + - and ., at least two
 * characters, starting with a letter or digit; plus apt's optional :ARCH.
 * So a name can never be an apt option (-o...), a path to a .deb, or a
 * version pin (=), whatever variable it came from.
 */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$/;
const PACKAGE_RULE = 'not a Debian package name (lowercase letters, digits, + - and ., at least 2 characters, starting with a letter or digit; optionally :ARCH)';

export const aptArgs = z.strictObject({
  // Checked after the type so a bad name in a list is reported at its own index.
  name: z.union([z.string(), z.array(z.string()).min(1)]).superRefine((name, ctx) => {
    const list = Array.isArray(name) ? name : [name];
    list.forEach((n, i) => {
      if (!PACKAGE.test(n)) ctx.addIssue({ code: 'custom', message: PACKAGE_RULE, path: Array.isArray(name) ? [i] : [] });
    });
  }),
  state: z.enum(['present', 'absent', 'latest']).default('present'),
  update_cache: z.boolean().default(false),
  /** Seconds an apt cache refresh stays valid, so a converged host does not refresh every run. */
  cache_valid_time: z.number().int().nonnegative().default(3600),
  /** Reinstall a package whose files are missing or altered (dpkg --verify). */
  verify: z.boolean().default(false),
});

export type AptArgs = z.output<typeof aptArgs>;

export interface FileProblem {
  path: string;
  /** `missing`, or `altered` (checksum differs). */
  issue: 'missing' | 'altered';
  conffile: boolean;
}

export interface PackageState {
  /** dpkg's db:Status-Status (installed, config-files, half-configured, ...); null when dpkg does not know it. */
  status: string | null;
  version: string | null;
  /** apt-cache policy's candidate (only probed for state: latest); null when apt has none. */
  candidate?: string | null;
  /** dpkg --verify findings (only probed with verify: true). */
  problems?: FileProblem[];
}

export interface AptState {
  packages: Record<string, PackageState>;
  /** Only with update_cache: whether the last refresh is older than cache_valid_time, and when it was (ISO, UTC). */
  cache?: { stale: boolean; lastRefresh: string | null };
}

const MARK = '::plumb-apt';
/** Written after every refresh plumb makes; apt's own hook (15update-stamp) touches it too where installed. */
const STAMP = '/var/lib/apt/periodic/update-success-stamp';
const ENV = 'export PATH="$PATH:/usr/sbin:/sbin"; DEBIAN_FRONTEND=noninteractive';
/**
 * Package names always follow `--`: apt-get honours it (on bookworm, `apt-get -s install --
 * -oDPkg::Pre-Invoke::=x` answers "Unable to locate package"), so even a name that slipped past
 * the schema could not become an option.
 */
const APT_GET = 'apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

function names(args: AptArgs): string[] {
  return Array.isArray(args.name) ? args.name : [args.name];
}

/** dpkg prints package names without the :arch a task may ask for. */
function baseName(name: string): string {
  return name.split(':')[0];
}

/** Statuses dpkg considers installed (trigger states are installed packages waiting on a trigger). */
const INSTALLED = new Set(['installed', 'triggers-awaited', 'triggers-pending']);

/**
 * Sections, each starting with a `::plumb-apt` line:
 * `status` (dpkg-query lines `NAME<TAB>STATUS<TAB>VERSION`), `policy` (apt-cache policy),
 * `cache NOW MTIME` (epoch seconds), `verify NAME` (dpkg --verify lines for that package).
 */
function probe(args: AptArgs): string {
  const pkgs = names(args).map(quote).join(' ');
  const lines = [
    'export PATH="$PATH:/usr/sbin:/sbin" LC_ALL=C',
    `echo '${MARK} status'`,
    `dpkg-query -W -f='\${Package}\\t\${db:Status-Status}\\t\${Version}\\n' -- ${pkgs} 2>/dev/null`,
  ];
  if (args.state === 'latest') lines.push(`echo '${MARK} policy'`, `apt-cache policy -- ${pkgs} 2>/dev/null`);
  if (args.update_cache) {
    lines.push(`echo "${MARK} cache $(date +%s) $(stat -c %Y ${STAMP} /var/lib/apt/lists /var/cache/apt/pkgcache.bin 2>/dev/null | sort -n | tail -n 1)"`);
  }
  if (args.verify && args.state !== 'absent') {
    // One dpkg --verify for all packages first (each call loads dpkg's whole database,
    // ~4 ms of a converged host's probe per package). Clean and all installed (exit 0,
    // no output) means every package's section is empty; otherwise the per-package
    // run says which package each finding belongs to.
    lines.push(
      `if __plumb_v=$(dpkg --verify -- ${pkgs} 2>/dev/null) && [ -z "$__plumb_v" ]; then`,
      `for p in ${pkgs}; do echo "${MARK} verify $p"; done`,
      'else',
      `for p in ${pkgs}; do echo "${MARK} verify $p"; dpkg --verify -- "$p" 2>/dev/null; done`,
      'fi',
    );
  }
  return lines.join('\n');
}

/** One `dpkg --verify` line: 9 check characters, the conffile flag, the path. */
export function parseVerifyLine(line: string): FileProblem | undefined {
  const m = /^(.{9}) ([c ]) (\/.*)$/.exec(line);
  if (!m) return undefined;
  const checks = m[1].trim();
  const conffile = m[2] === 'c';
  if (checks === 'missing') return { path: m[3], issue: 'missing', conffile };
  return { path: m[3], issue: 'altered', conffile };
}

function parse(args: AptArgs, stdout: string): Probed<AptState> {
  const packages: Record<string, PackageState> = {};
  for (const n of names(args)) packages[n] = { status: null, version: null };
  let section = '';
  let verifying: string | undefined;
  let policyPkg: string | undefined;
  let cache: AptState['cache'];
  const seen = new Set<string>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${MARK} `)) {
      const [, kind, ...rest] = line.split(' ');
      section = kind;
      seen.add(kind);
      if (kind === 'verify') {
        verifying = rest[0];
        if (packages[verifying]) packages[verifying].problems = [];
      }
      if (kind === 'cache') {
        const now = Number(rest[0]);
        const mtime = rest[1] ? Number(rest[1]) : null;
        cache = {
          stale: mtime === null || now - mtime > args.cache_valid_time,
          lastRefresh: mtime === null ? null : new Date(mtime * 1000).toISOString(),
        };
      }
      continue;
    }
    if (section === 'status') {
      const [pkg, status, version] = line.split('\t');
      if (version === undefined) continue;
      for (const n of names(args)) {
        // A multi-arch package may print one line per architecture: installed anywhere wins.
        if (baseName(n) === pkg && !(packages[n].status !== null && INSTALLED.has(packages[n].status as string))) {
          packages[n].status = status;
          packages[n].version = version === '' ? null : version;
        }
      }
    } else if (section === 'policy') {
      const head = /^(\S+):$/.exec(line);
      if (head) policyPkg = head[1];
      const cand = /^\s+Candidate: (.*)$/.exec(line);
      if (cand && policyPkg) {
        for (const n of names(args)) {
          if (n === policyPkg || baseName(n) === policyPkg) packages[n].candidate = cand[1] === '(none)' ? null : cand[1];
        }
      }
    } else if (section === 'verify' && verifying && packages[verifying]) {
      const problem = parseVerifyLine(line);
      if (problem) (packages[verifying].problems as FileProblem[]).push(problem);
    }
  }
  if (!seen.has('status')) return { known: false, reason: `unexpected probe output for apt: ${JSON.stringify(stdout.slice(0, 80))}` };
  if (args.state === 'latest') {
    for (const n of names(args)) if (packages[n].candidate === undefined) packages[n].candidate = null;
  }
  const state: AptState = { packages };
  if (args.update_cache) {
    if (!cache) return { known: false, reason: 'apt cache age was not reported' };
    state.cache = cache;
  }
  return { known: true, state };
}

function installed(p: PackageState): boolean {
  return p.status !== null && INSTALLED.has(p.status);
}

/** Missing files (conffiles too: --force-confmiss restores them) and altered non-conffiles; an edited conffile is the admin's. */
function needsReinstall(p: PackageState): FileProblem[] {
  return (p.problems ?? []).filter((f) => f.issue === 'missing' || !f.conffile);
}

type Action = 'update' | 'install' | 'reinstall' | 'remove';

function plan(args: AptArgs, state: AptState): Array<{ change: Change; action: Action; pkg?: string }> {
  const out: Array<{ change: Change; action: Action; pkg?: string }> = [];
  if (args.update_cache && state.cache?.stale) {
    const when = state.cache.lastRefresh ? `last refreshed ${state.cache.lastRefresh.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : 'never refreshed';
    out.push({ change: { summary: `update apt cache (${when})`, target: 'apt cache' }, action: 'update' });
  }
  for (const n of names(args)) {
    const p = state.packages[n] ?? { status: null, version: null };
    const target = `package ${n}`;
    if (args.state === 'absent') {
      if (p.status !== null && p.status !== 'not-installed' && p.status !== 'config-files') {
        out.push({ change: { summary: `remove ${n} ${p.version ?? ''}`.trim(), target, before: p.version, after: null }, action: 'remove', pkg: n });
      }
      continue;
    }
    if (!installed(p)) {
      const how = p.status && p.status !== 'not-installed' && p.status !== 'config-files' ? ` (dpkg status ${p.status})` : '';
      const version = args.state === 'latest' && p.candidate ? ` ${p.candidate}` : '';
      out.push({ change: { summary: `install ${n}${version}${how}`, target, before: p.version, after: p.candidate ?? 'installed' }, action: 'install', pkg: n });
      continue;
    }
    if (args.state === 'latest' && p.candidate && p.candidate !== p.version) {
      out.push({ change: { summary: `upgrade ${n}: ${p.version} → ${p.candidate}`, target, before: p.version, after: p.candidate }, action: 'install', pkg: n });
      continue;
    }
    const broken = needsReinstall(p);
    if (broken.length > 0) {
      const listed = broken.slice(0, 3).map((f) => `${f.path} ${f.issue}`).join(', ');
      const more = broken.length > 3 ? ` and ${broken.length - 3} more` : '';
      out.push({
        change: { summary: `reinstall ${n}: ${listed}${more}`, target, before: broken.map((f) => `${f.path} ${f.issue}`), after: p.version },
        action: 'reinstall',
        pkg: n,
      });
    }
  }
  return out;
}

function steps(args: AptArgs, state: AptState): Step[] {
  const planned = plan(args, state);
  const pkgs = (action: Action) => planned.filter((p) => p.action === action).map((p) => p.pkg as string);
  const out: Step[] = [];
  if (planned.some((p) => p.action === 'update')) {
    const line = `${ENV} apt-get -q -o DPkg::Lock::Timeout=120 update && mkdir -p ${quote(STAMP.replace(/\/[^/]+$/, ''))} && touch ${quote(STAMP)}`;
    out.push({ kind: 'exec', command: line, describe: 'apt-get update' });
  }
  const install = pkgs('install');
  if (install.length > 0) out.push({ kind: 'exec', command: `${ENV} ${APT_GET} install -- ${command(...install)}`, describe: `apt-get install ${install.join(' ')}` });
  const reinstall = pkgs('reinstall');
  if (reinstall.length > 0) {
    // --force-confmiss brings back a deleted conffile; edited ones stay (confold).
    out.push({
      kind: 'exec',
      command: `${ENV} ${APT_GET} -o Dpkg::Options::=--force-confmiss install --reinstall -- ${command(...reinstall)}`,
      describe: `apt-get install --reinstall ${reinstall.join(' ')}`,
    });
  }
  const remove = pkgs('remove');
  if (remove.length > 0) out.push({ kind: 'exec', command: `${ENV} ${APT_GET} remove -- ${command(...remove)}`, describe: `apt-get remove ${remove.join(' ')}` });
  return out;
}

export const apt: Module<AptArgs, AptState> = {
  name: 'apt',
  schema: aptArgs,
  probe: (args) => probe(args),
  parse: (args, out) => parse(args, out.stdout),
  diff: (args, state) => plan(args, state).map((p) => p.change),
  apply: (args, state, changes) => (changes.length === 0 ? [] : steps(args, state)),
};
