/**
 * apt: Debian packages present, absent or at the candidate version, read with
 * dpkg-query (and apt-cache policy for `latest`). `verify: true` also checks
 * installed packages' files with `dpkg --verify` and reinstalls a package
 * whose files are missing or altered — the seed's deleted libplain.so.
 * Issue 15 adds Ansible's install_recommends, autoremove, purge,
 * default_release, `name=version` pins, allow_downgrade, force, policy_rc_d,
 * a local `deb`, and `upgrade` (planned from apt-get's read-only simulation).
 */
import { z } from 'zod';
import { aptSimulateOf, type SimulatedChange, type SimulateParams } from '../facts/apt-simulate.js';
import { type DebFile, debFileOf } from '../facts/deb-file.js';
import { APT_STAMP, aptCacheAgeOf, aptPolicyOf, type CacheAge, dpkgStatusOf, dpkgVerifyOf, type FileProblem, INSTALLED, type PackageStatus } from '../facts/dpkg.js';
import { SBIN_PATH } from '../facts/types.js';
import { command, quote } from '../quote.js';
import { pathSchema } from './common.js';
import { batchItems } from './contract.js';
import { type Change, defineModule, known, type Planned, type Probed, type Step } from './types.js';

/**
 * Debian policy §5.6.7: lowercase letters, digits, + - and ., at least two
 * characters, starting with a letter or digit; plus apt's optional :ARCH and
 * an optional =VERSION pin (Debian version characters, no wildcard). So a
 * name can never be an apt option (-o...) or a path to a .deb, whatever
 * variable it came from.
 */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?(=[0-9][A-Za-z0-9.+~:-]*)?$/;
const PACKAGE_RULE =
  'not a Debian package name (lowercase letters, digits, + - and ., at least 2 characters, starting with a letter or digit; optionally :ARCH and =VERSION, no wildcards)';

/** A release name or codename for apt's -t (bookworm-backports, stable, o=Debian is not supported). */
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9.+~_/-]*$/;

const UPGRADES = ['dist', 'full', 'yes', 'safe', 'no'] as const;

/** The package names as a task writes them: the rule is checked after the type so a bad name in a list is reported at its own index. */
export const packageNames = z.union([z.string(), z.array(z.string()).min(1)]).superRefine((name, ctx) => {
  const list = Array.isArray(name) ? name : [name];
  list.forEach((n, i) => {
    if (!PACKAGE.test(n)) ctx.addIssue({ code: 'custom', message: PACKAGE_RULE, path: Array.isArray(name) ? [i] : [] });
  });
});

export const aptArgs = z
  .strictObject({
    name: packageNames.optional().describe('a package name or a list of them (name:arch allowed; name=version pins a version)'),
    state: z.enum(['present', 'absent', 'latest']).default('present').describe('installed, removed, or at the candidate version of apt-cache policy'),
    update_cache: z.boolean().default(false).describe('refresh the apt cache first when it is older than cache_valid_time'),
    cache_valid_time: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('seconds an apt cache refresh stays valid (plumb default 3600 with update_cache; set alone, it refreshes a cache older than that, as in Ansible)'),
    verify: z.boolean().default(false).describe('dpkg --verify installed packages and reinstall one whose files are missing or altered (an edited conffile is kept)'),
    install_recommends: z.boolean().optional().describe("install recommended packages too (true) or not (false); unset follows the host's apt configuration"),
    autoremove: z.boolean().default(false).describe('also remove packages installed as dependencies that nothing needs any more (alone: apt-get autoremove)'),
    purge: z.boolean().default(false).describe('with state absent (or autoremove), remove configuration files too; also purges a package left with only its configuration files'),
    default_release: z
      .string()
      .regex(RELEASE, { message: 'not a release name (letters, digits and . + ~ _ / -, starting with a letter or digit)' })
      .optional()
      .describe("apt's -t: install from this release (bookworm-backports) and read `latest` candidates under it"),
    upgrade: z
      .preprocess((v) => (v === true ? 'yes' : v === false ? 'no' : v), z.enum(UPGRADES))
      .default('no')
      .describe('upgrade the whole host: dist and full run apt-get dist-upgrade, yes and safe apt-get upgrade --with-new-pkgs; the plan lists the packages from apt-get -s'),
    deb: pathSchema
      .refine((p) => p.endsWith('.deb'), { message: 'deb must be a path on the host ending in .deb (apt-get installs it with its dependencies)' })
      .optional()
      .describe('a .deb file on the host to install (with its dependencies); its version is read with dpkg-deb -f'),
    policy_rc_d: z
      .number()
      .int()
      .min(0)
      .max(255)
      .optional()
      .describe('exit code of a /usr/sbin/policy-rc.d in place while apt-get runs (101: installed services are not started); the previous one is put back after, even on failure'),
    force: z.boolean().default(false).describe("apt-get --force-yes (Ansible's force: allows downgrades, removing essential and held packages; dangerous)"),
    allow_downgrade: z.boolean().default(false).describe('allow a name=version pin or a deb to install an older version than the installed one'),
  })
  .superRefine((a, ctx) => {
    const upgrading = a.upgrade !== 'no';
    if (a.name === undefined && a.deb === undefined && !upgrading && !a.update_cache && !a.autoremove && a.cache_valid_time === undefined)
      ctx.addIssue({ code: 'custom', message: 'apt needs one of name, deb, upgrade, update_cache or autoremove' });
    if ([a.name !== undefined, a.deb !== undefined, upgrading].filter(Boolean).length > 1)
      ctx.addIssue({ code: 'custom', message: 'name, deb and upgrade are mutually exclusive (one apt task does one of them)' });
    if (a.deb !== undefined && a.state !== 'present') ctx.addIssue({ code: 'custom', message: 'deb only supports state: present', path: ['state'] });
  });

export type AptArgs = z.output<typeof aptArgs>;

interface AptFacts {
  status: Record<string, PackageStatus>;
  policy: Record<string, string | null>;
  cache: CacheAge;
  verify: Record<string, FileProblem[]>;
  deb: DebFile;
  simulated: SimulatedChange[];
}

const ENV = `${SBIN_PATH}; DEBIAN_FRONTEND=noninteractive`;
/**
 * Package names always follow `--`: apt-get honours it (on bookworm, `apt-get -s install --
 * -oDPkg::Pre-Invoke::=x` answers "Unable to locate package"), so even a name that slipped past
 * the schema could not become an option.
 */
const APT_GET = 'apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

/** The specs as written (name, name:arch, name=version). */
function specs(args: AptArgs): string[] {
  return args.name === undefined ? [] : Array.isArray(args.name) ? args.name : [args.name];
}

function split(spec: string): { name: string; version?: string } {
  const at = spec.indexOf('=');
  return at < 0 ? { name: spec } : { name: spec.slice(0, at), version: spec.slice(at + 1) };
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

function removal(args: AptArgs, spec: string, p: PackageStatus): Planned | undefined {
  const { name, version } = split(spec);
  const target = `package ${name}`;
  const gone = p.status === null || p.status === 'not-installed';
  // Ansible: an installed package (of the pinned version, if pinned) is removed; with purge, one left with only its configuration files is purged too.
  if (gone || (p.status === 'config-files' && !args.purge)) return undefined;
  if (version !== undefined && installed(p) && p.version !== version) return undefined;
  const verb = args.purge ? 'purge' : 'remove';
  const what = p.status === 'config-files' ? 'configuration files' : (p.version ?? '');
  return {
    change: { summary: `${verb} ${name} ${what}`.trim(), target, before: p.status === 'config-files' ? 'config-files' : p.version, after: null },
    steps: [item('remove', spec)],
  };
}

function packageChange(args: AptArgs, spec: string, p: PackageStatus, candidate: string | null | undefined, problems: FileProblem[]): Planned | undefined {
  if (args.state === 'absent') return removal(args, spec, p);
  const { name, version } = split(spec);
  const target = `package ${name}`;
  const planned = (change: Change, action: Action): Planned => ({ change, steps: [item(action, spec)] });
  if (!installed(p)) {
    const how = p.status && p.status !== 'not-installed' && p.status !== 'config-files' ? ` (dpkg status ${p.status})` : '';
    const want = version ?? (args.state === 'latest' && candidate ? candidate : undefined);
    return planned({ summary: `install ${name}${want ? ` ${want}` : ''}${how}`, target, before: p.version, after: want ?? candidate ?? 'installed' }, 'install');
  }
  if (version !== undefined && version !== p.version) {
    return planned({ summary: `change ${name}: ${p.version} → ${version}`, target, before: p.version, after: version }, 'install');
  }
  if (version === undefined && args.state === 'latest' && candidate && candidate !== p.version) {
    return planned({ summary: `upgrade ${name}: ${p.version} → ${candidate}`, target, before: p.version, after: candidate }, 'install');
  }
  const broken = needsReinstall(problems);
  if (broken.length === 0) return undefined;
  const listed = broken
    .slice(0, 3)
    .map((f) => `${f.path} ${f.issue}`)
    .join(', ');
  const more = broken.length > 3 ? ` and ${broken.length - 3} more` : '';
  return planned({ summary: `reinstall ${name}: ${listed}${more}`, target, before: broken.map((f) => `${f.path} ${f.issue}`), after: p.version }, 'reinstall');
}

function debChange(path: string, deb: DebFile): Planned | undefined {
  const have = deb.installed;
  if (installed(have) && have.version === deb.version) return undefined;
  const summary = installed(have) ? `change ${deb.package}: ${have.version} → ${deb.version} (${path})` : `install ${deb.package} ${deb.version} (${path})`;
  return { change: { summary, target: `package ${deb.package}`, before: have.version, after: deb.version }, steps: [item('install', path)] };
}

/** apt-get's options from the task's arguments, for one action, as shell words (the release is quoted; the rest are fixed text). */
function optionsOf(args: AptArgs, action: Action | 'upgrade' | 'autoremove'): string[] {
  const out: string[] = [];
  if (action === 'reinstall') out.push('-o', 'Dpkg::Options::=--force-confmiss'); // brings back a deleted conffile; edited ones stay (confold)
  if (action === 'install' && args.install_recommends !== undefined) out.push('-o', `APT::Install-Recommends=${args.install_recommends ? 'yes' : 'no'}`);
  if ((action === 'install' || action === 'upgrade') && args.default_release) out.push('-t', quote(args.default_release));
  if ((action === 'install' || action === 'upgrade') && args.allow_downgrade) out.push('--allow-downgrades');
  if ((action === 'remove' || action === 'autoremove') && args.purge) out.push('--purge');
  if (args.autoremove && action !== 'reinstall' && action !== 'autoremove') out.push('--auto-remove');
  if (args.force) out.push('--force-yes');
  return out;
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/**
 * Run `line` with a /usr/sbin/policy-rc.d that exits `code` (invoke-rc.d then does not start
 * or stop services), written atomically (temp file in the same directory, then rename) and
 * removed afterwards — on success, failure or a signal — with any previous one moved aside
 * and put back, as Ansible's PolicyRcD does.
 */
export function withPolicyRcD(code: number, line: string): string {
  const p = quote(POLICY_RC_D);
  return [
    `__plumb_b=; __plumb_t=`,
    `__plumb_restore() { rm -f ${p} "$__plumb_t"; if [ -n "$__plumb_b" ]; then mv -f "$__plumb_b/policy-rc.d" ${p} && rmdir "$__plumb_b"; fi; }`,
    `if [ -e ${p} ] || [ -L ${p} ]; then __plumb_b=$(mktemp -d /usr/sbin/.plumb-policy-rc.d.XXXXXX) && mv ${p} "$__plumb_b/" || exit 1; fi`,
    `trap '__plumb_restore' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM`,
    `__plumb_t=$(mktemp /usr/sbin/.policy-rc.d.XXXXXX) && printf '#!/bin/sh\\nexit %d\\n' ${code} > "$__plumb_t" && chmod 0755 "$__plumb_t" && mv -f "$__plumb_t" ${p} || exit 1`,
    `(${line}); __plumb_rc=$?`,
    // Restored explicitly so a failed restore fails the step; the EXIT trap covers a signal.
    `trap - EXIT; __plumb_restore || exit 1; exit $__plumb_rc`,
  ].join('\n');
}

function aptGet(args: AptArgs, line: string): string {
  return args.policy_rc_d === undefined ? line : withPolicyRcD(args.policy_rc_d, line);
}

function runAction(args: AptArgs, action: Action, pkgs: string[]): Step {
  const how = { install: 'install', reinstall: 'install --reinstall', remove: 'remove' }[action];
  const options = optionsOf(args, action);
  const line = `${ENV} ${APT_GET}${options.length ? ` ${options.join(' ')}` : ''} ${how} -- ${command(...pkgs)}`;
  return { kind: 'exec', command: aptGet(args, line), describe: `apt-get ${how} ${pkgs.join(' ')}` };
}

/** The read-only simulation a whole-host upgrade or a bare autoremove is planned from. */
function simulation(args: AptArgs): SimulateParams | undefined {
  const params = (p: SimulateParams): SimulateParams => ({ ...p, ...(args.default_release ? { release: args.default_release } : {}), ...(args.purge ? { purge: true } : {}) });
  if (args.upgrade === 'dist' || args.upgrade === 'full') return params({ action: 'dist-upgrade' });
  if (args.upgrade === 'yes' || args.upgrade === 'safe') return params({ action: 'upgrade' });
  if (args.autoremove && args.name === undefined && args.deb === undefined) return params({ action: 'autoremove' });
  return undefined;
}

function simulatedWords(args: AptArgs): string {
  if (args.upgrade === 'dist' || args.upgrade === 'full') return 'dist-upgrade';
  if (args.upgrade === 'yes' || args.upgrade === 'safe') return 'upgrade --with-new-pkgs';
  return 'autoremove';
}

function wholeHost(args: AptArgs, simulated: SimulatedChange[] | undefined, refreshing: boolean): Planned[] {
  const words = simulatedWords(args);
  const action = words === 'autoremove' ? 'autoremove' : 'upgrade';
  const options = optionsOf(args, action);
  const step: Step = { kind: 'exec', command: aptGet(args, `${ENV} ${APT_GET}${options.length ? ` ${options.join(' ')}` : ''} ${words}`), describe: `apt-get ${words}` };
  // After a refresh the simulation (of the old lists) may be out of date: say so rather than list a guess.
  if (refreshing) return [{ change: { summary: `apt-get ${words} (which packages change is known after the cache refresh)`, target: `apt ${action}` }, steps: [step] }];
  const changes = simulated ?? [];
  return changes.map((c, i) => {
    const summary =
      c.kind === 'remove'
        ? `remove ${c.package} ${c.from ?? ''}`.trim() + (action === 'autoremove' ? ' (no longer needed)' : '')
        : c.kind === 'upgrade'
          ? `upgrade ${c.package}: ${c.from} → ${c.to}`
          : `install ${c.package} ${c.to}`;
    return { change: { summary, target: `package ${c.package}`, before: c.from, after: c.to }, steps: i === 0 ? [step] : [] };
  });
}

export function aptFacts(args: AptArgs) {
  const names = specs(args).map((s) => split(s).name);
  const sim = simulation(args);
  const checksCache = args.update_cache || (args.cache_valid_time ?? 0) > 0;
  return {
    ...(names.length ? { status: dpkgStatusOf(names) } : {}),
    ...(names.length && args.state === 'latest' ? { policy: aptPolicyOf(names, args.default_release) } : {}),
    ...(checksCache ? { cache: aptCacheAgeOf(args.cache_valid_time ?? 3600) } : {}),
    ...(names.length && args.verify && args.state !== 'absent' ? { verify: dpkgVerifyOf(names) } : {}),
    ...(args.deb !== undefined ? { deb: debFileOf(args.deb) } : {}),
    ...(sim ? { simulated: aptSimulateOf(sim) } : {}),
  };
}

export function aptPlan(args: AptArgs, facts: { [K in keyof AptFacts]?: Probed<AptFacts[K]> }): Planned[] {
  const cache = facts.cache ? known(facts.cache) : undefined;
  const out: Planned[] = [];
  if (cache?.stale) out.push(refresh(cache));
  if (args.deb !== undefined) {
    const p = debChange(args.deb, known(facts.deb!));
    if (p) out.push(p);
  }
  if (facts.simulated) out.push(...wholeHost(args, cache?.stale ? undefined : known(facts.simulated), cache?.stale ?? false));
  if (args.name === undefined) return out;
  const status = known(facts.status!);
  const policy = facts.policy ? known(facts.policy) : {};
  const verify = facts.verify ? known(facts.verify) : {};
  for (const spec of specs(args)) {
    const { name } = split(spec);
    const p = packageChange(args, spec, status[name] ?? { status: null, version: null }, policy[name], verify[name] ?? []);
    if (p) out.push(p);
  }
  return out;
}

export function aptMerge(steps: Step[], args: AptArgs): Step[] {
  return [
    ...steps.filter((s) => s.kind !== 'batch'),
    ...ACTIONS.flatMap((action) => {
      const pkgs = batchItems(steps, action);
      return pkgs.length ? [runAction(args, action, pkgs)] : [];
    }),
  ];
}

export const apt = defineModule<AptArgs, Partial<AptFacts>>({
  name: 'apt',
  summary:
    'Debian packages present, absent or latest (pins, purge, autoremove, a local .deb, whole-host upgrade), a cache refresh, and reinstalls of packages dpkg --verify finds damaged',
  schema: aptArgs,
  aliases: {
    pkg: 'name',
    package: 'name',
    'update-cache': 'update_cache',
    'install-recommends': 'install_recommends',
    'default-release': 'default_release',
    'allow-downgrade': 'allow_downgrade',
    allow_downgrades: 'allow_downgrade',
    'allow-downgrades': 'allow_downgrade',
  },
  differences: [
    'cache_valid_time defaults to 3600 with update_cache (Ansible: 0, a refresh every run), so a converged host does not refresh every run.',
    'upgrade: yes/safe runs apt-get upgrade --with-new-pkgs and full runs apt-get dist-upgrade, as Ansible does on a host without aptitude; plumb never uses aptitude.',
    'deb takes a path on the host ending in .deb (apt-get installs it with its dependencies); Ansible also fetches a URL and takes any file name (dpkg -i).',
    'A package named in a task that is already installed is not marked manually installed (Ansible runs apt-mark manual every run without reporting a change).',
    "The dependencies a deb pulls in stay marked automatically installed (apt-get's own rule); Ansible marks the deb's direct dependencies manually installed.",
    'name=version pins an exact version; Ansible also takes fnmatch wildcards (name=1.2*) and name>=version.',
  ],
  title: (args) => {
    if (Array.isArray(args.name)) return args.name.join(', ');
    if (args.name !== undefined) return String(args.name);
    if (args.deb !== undefined) return String(args.deb);
    if (args.upgrade !== undefined) return `upgrade ${String(args.upgrade)}`;
    return args.autoremove ? 'autoremove' : args.update_cache ? 'update cache' : '';
  },
  facts: (args) => aptFacts(args),
  plan: (args, facts) => aptPlan(args, facts),
  merge: (steps, args) => aptMerge(steps, args),
});
