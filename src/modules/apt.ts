/**
 * apt: Debian packages present, absent or at the candidate version, read with
 * dpkg-query (and apt-cache policy for `latest`). `verify: true` also checks
 * installed packages' files with `dpkg --verify` and reinstalls a package
 * whose files are missing or altered — the seed's deleted libplain.so.
 */
import { z } from 'zod';
import { APT_STAMP, aptCacheAgeOf, aptPolicyOf, type CacheAge, dpkgStatusOf, dpkgVerifyOf, type FileProblem, INSTALLED, type PackageStatus } from '../facts/dpkg.js';
import { SBIN_PATH } from '../facts/types.js';
import { command, quote } from '../quote.js';
import { batchItems } from './contract.js';
import { type Change, defineModule, known, type Planned, type Step } from './types.js';

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
  name: z
    .union([z.string(), z.array(z.string()).min(1)])
    .superRefine((name, ctx) => {
      const list = Array.isArray(name) ? name : [name];
      list.forEach((n, i) => {
        if (!PACKAGE.test(n)) ctx.addIssue({ code: 'custom', message: PACKAGE_RULE, path: Array.isArray(name) ? [i] : [] });
      });
    })
    .describe('a package name or a list of them (name:arch allowed)'),
  state: z.enum(['present', 'absent', 'latest']).default('present').describe('installed, removed, or at the candidate version of apt-cache policy'),
  update_cache: z.boolean().default(false).describe('refresh the apt cache first when it is older than cache_valid_time'),
  // So a converged host does not refresh every run.
  cache_valid_time: z.number().int().nonnegative().default(3600).describe('seconds an apt cache refresh stays valid'),
  verify: z.boolean().default(false).describe('dpkg --verify installed packages and reinstall one whose files are missing or altered (an edited conffile is kept)'),
});

export type AptArgs = z.output<typeof aptArgs>;

interface AptFacts {
  status: Record<string, PackageStatus>;
  policy: Record<string, string | null>;
  cache: CacheAge;
  verify: Record<string, FileProblem[]>;
}

const ENV = `${SBIN_PATH}; DEBIAN_FRONTEND=noninteractive`;
/**
 * Package names always follow `--`: apt-get honours it (on bookworm, `apt-get -s install --
 * -oDPkg::Pre-Invoke::=x` answers "Unable to locate package"), so even a name that slipped past
 * the schema could not become an option.
 */
const APT_GET = 'apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

function names(args: AptArgs): string[] {
  return Array.isArray(args.name) ? args.name : [args.name];
}

function installed(p: PackageStatus): boolean {
  return p.status !== null && INSTALLED.has(p.status);
}

/** Missing files (conffiles too: --force-confmiss restores them) and altered non-conffiles; an edited conffile is the admin's. */
function needsReinstall(problems: FileProblem[]): FileProblem[] {
  return problems.filter((f) => f.issue === 'missing' || !f.conffile);
}

/** Each action's packages go to apt-get in one call, in this order, after the cache refresh. */
const ACTIONS = ['install', 'reinstall', 'remove'] as const;
type Action = (typeof ACTIONS)[number];

function item(action: Action, pkg: string): Step {
  return { kind: 'batch', group: action, item: pkg, describe: `apt-get ${action} ${pkg}` };
}

function refresh(cache: CacheAge): Planned {
  const when = cache.lastRefresh ? `last refreshed ${cache.lastRefresh.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : 'never refreshed';
  const line = `${ENV} apt-get -q -o DPkg::Lock::Timeout=120 update && mkdir -p ${quote(APT_STAMP.replace(/\/[^/]+$/, ''))} && touch ${quote(APT_STAMP)}`;
  return { change: { summary: `update apt cache (${when})`, target: 'apt cache' }, steps: [{ kind: 'exec', command: line, describe: 'apt-get update' }] };
}

function packageChange(args: AptArgs, n: string, p: PackageStatus, candidate: string | null | undefined, problems: FileProblem[]): Planned | undefined {
  const target = `package ${n}`;
  const planned = (change: Change, action: Action): Planned => ({ change, steps: [item(action, n)] });
  if (args.state === 'absent') {
    if (p.status === null || p.status === 'not-installed' || p.status === 'config-files') return undefined;
    return planned({ summary: `remove ${n} ${p.version ?? ''}`.trim(), target, before: p.version, after: null }, 'remove');
  }
  if (!installed(p)) {
    const how = p.status && p.status !== 'not-installed' && p.status !== 'config-files' ? ` (dpkg status ${p.status})` : '';
    const version = args.state === 'latest' && candidate ? ` ${candidate}` : '';
    return planned({ summary: `install ${n}${version}${how}`, target, before: p.version, after: candidate ?? 'installed' }, 'install');
  }
  if (args.state === 'latest' && candidate && candidate !== p.version) {
    return planned({ summary: `upgrade ${n}: ${p.version} → ${candidate}`, target, before: p.version, after: candidate }, 'install');
  }
  const broken = needsReinstall(problems);
  if (broken.length === 0) return undefined;
  const listed = broken
    .slice(0, 3)
    .map((f) => `${f.path} ${f.issue}`)
    .join(', ');
  const more = broken.length > 3 ? ` and ${broken.length - 3} more` : '';
  return planned({ summary: `reinstall ${n}: ${listed}${more}`, target, before: broken.map((f) => `${f.path} ${f.issue}`), after: p.version }, 'reinstall');
}

function runAction(action: Action, pkgs: string[]): Step {
  const how = { install: 'install', reinstall: 'install --reinstall', remove: 'remove' }[action];
  // --force-confmiss brings back a deleted conffile; edited ones stay (confold).
  const options = action === 'reinstall' ? ' -o Dpkg::Options::=--force-confmiss' : '';
  return { kind: 'exec', command: `${ENV} ${APT_GET}${options} ${how} -- ${command(...pkgs)}`, describe: `apt-get ${how} ${pkgs.join(' ')}` };
}

export const apt = defineModule<AptArgs, Partial<AptFacts>>({
  name: 'apt',
  summary: 'Debian packages present, absent or latest; optionally refresh the cache and reinstall packages whose files dpkg --verify finds missing or altered',
  schema: aptArgs,
  aliases: { pkg: 'name', package: 'name', 'update-cache': 'update_cache' },
  title: (args) => (Array.isArray(args.name) ? args.name.join(', ') : String(args.name ?? '')),
  facts(args) {
    const pkgs = names(args);
    return {
      status: dpkgStatusOf(pkgs),
      ...(args.state === 'latest' ? { policy: aptPolicyOf(pkgs) } : {}),
      ...(args.update_cache ? { cache: aptCacheAgeOf(args.cache_valid_time) } : {}),
      ...(args.verify && args.state !== 'absent' ? { verify: dpkgVerifyOf(pkgs) } : {}),
    };
  },
  plan(args, facts) {
    const status = known(facts.status!);
    const policy = facts.policy ? known(facts.policy) : {};
    const cache = facts.cache ? known(facts.cache) : undefined;
    const verify = facts.verify ? known(facts.verify) : {};
    const out: Planned[] = [];
    if (cache?.stale) out.push(refresh(cache));
    for (const n of names(args)) {
      const p = packageChange(args, n, status[n] ?? { status: null, version: null }, policy[n], verify[n] ?? []);
      if (p) out.push(p);
    }
    return out;
  },
  merge: (steps) => [
    ...steps.filter((s) => s.kind !== 'batch'),
    ...ACTIONS.flatMap((action) => {
      const pkgs = batchItems(steps, action);
      return pkgs.length ? [runAction(action, pkgs)] : [];
    }),
  ],
});
