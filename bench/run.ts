/**
 * plumb vs Ansible on the test fleet, same target state (the seed job).
 *
 *   npm run bench                       # start-up, 10 and 50 hosts, then the 500–2,000-host scale run
 *   npm run bench -- --hosts 10 --quick # development: 10 hosts, 2 repeats, 1 fresh converge
 *   options: --hosts 10,50  --repeats N (default 5)  --fresh N (default 3 at ≤10 hosts, 1 above)
 *            --no-scale  --scale-only  --no-build  --out FILE (default bench/RESULTS.md)
 *            --tools plumb,ansible,floor  --scenarios startup,fresh,noop,drift (default: all)
 *   npm run bench -- --tools plumb --scenarios noop --no-scale --out /tmp/noop.md
 *                                       # plumb's no-op only (one unrecorded converge first): compare two commits
 *   npm run bench -- --scenarios startup --no-scale --out /tmp/startup.md
 *                                       # start-up medians only (no fleet, no root needed for the fleet)
 *
 * Needs root (the fleet). Installs Debian's ansible-core if missing. For every
 * host count, alternating the tools inside each round (start-up first, bench/startup.ts: no fleet):
 *   fresh   hosts reset to the bare image, then a full converge
 *   no-op   re-run on converged hosts (plumb, Ansible, floor: one OpenSSH ssh per host running one check script);
 *           with plumb, also bench/dynamic-relay.yaml's no-op: the same target state written with facts,
 *           a 20-item loop and a registered read-only command (issue 13), converged once beforehand
 *   drift   on every host libplain.so deleted, inet_protocols=all, sasl_passwd changed; then a run
 *           (plumb, Ansible, drift floor: one ssh per host running exactly the repair commands)
 * Every run's outcome is verified (exit code, per-host changed counts, state on every host)
 * before its time counts; a run that did not converge is reported as a failure.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import YAML from 'yaml';
import { startFleet, type Fleet } from '../test/fleet/fleet.js';
import { ensureAnsible } from './ansible.js';
import { CpuGroup, runMeasured, runMeasuredParallel } from './measure.js';
import { formatScale, runScale, type ScaleRow } from './scale.js';
import { formatStartup, runStartup, type StartupRow } from './startup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PLAYBOOK = join(root, 'playbooks/postfix-gmail-relay.yaml');
const DYNAMIC_PLAYBOOK = join(root, 'bench/dynamic-relay.yaml');
const ANSIBLE_DIR = join(root, 'bench/ansible');
const PLAIN_SO = '/usr/lib/x86_64-linux-gnu/sasl2/libplain.so';
const KEYS: Array<[string, (relay: string) => string]> = [
  ['relayhost', (r) => r],
  ['smtp_sasl_auth_enable', () => 'yes'],
  ['smtp_sasl_password_maps', () => 'hash:/etc/postfix/sasl_passwd'],
  ['smtp_sasl_security_options', () => 'noanonymous'],
  ['smtp_sasl_tls_security_options', () => 'noanonymous'],
  ['smtp_tls_security_level', () => 'encrypt'],
  ['smtp_tls_CApath', () => '/etc/ssl/certs'],
  ['inet_protocols', () => 'ipv4'],
];

type Tool = 'plumb' | 'ansible' | 'floor';
type Scenario = 'fresh' | 'noop' | 'noop-dynamic' | 'drift';
const SCENARIOS = ['startup', 'fresh', 'noop', 'drift'] as const;

interface Sample {
  tool: Tool;
  scenario: Scenario;
  hosts: number;
  ok: boolean;
  why?: string;
  wallS: number;
  cpuS: number;
  peakRssMB: number;
}

interface Options {
  hosts: number[];
  repeats: number;
  fresh?: number;
  scale: boolean;
  scaleOnly: boolean;
  build: boolean;
  out: string;
  tools: Tool[];
  scenarios: Scenario[];
  startup: boolean;
}

function listOf<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').filter(Boolean);
  const bad = items.find((i) => !allowed.includes(i as T));
  if (bad !== undefined || items.length === 0) throw new Error(`${flag}: a comma-separated list of ${allowed.join(', ')}`);
  return items as T[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    hosts: [10, 50],
    repeats: 5,
    scale: true,
    scaleOnly: false,
    build: true,
    out: join(root, 'bench/RESULTS.md'),
    tools: ['plumb', 'ansible', 'floor'],
    scenarios: ['fresh', 'noop', 'drift'],
    startup: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--hosts') o.hosts = value().split(',').map(Number);
    else if (a === '--repeats') o.repeats = Number(value());
    else if (a === '--fresh') o.fresh = Number(value());
    else if (a === '--quick') {
      o.repeats = 2;
      o.fresh = 1;
    } else if (a === '--no-scale') o.scale = false;
    else if (a === '--scale-only') o.scaleOnly = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--out') o.out = value();
    else if (a === '--tools') o.tools = listOf(value(), ['plumb', 'ansible', 'floor'] as const, a);
    else if (a === '--scenarios') {
      const picked = listOf(value(), SCENARIOS, a);
      o.startup = picked.includes('startup');
      o.scenarios = picked.filter((x): x is Exclude<(typeof SCENARIOS)[number], 'startup'> => x !== 'startup');
    } else throw new Error(`unknown option ${a} (see the comment at the top of bench/run.ts)`);
  }
  if (o.hosts.some((n) => !Number.isInteger(n) || n < 1 || n > 50)) throw new Error('--hosts: counts from 1 to 50');
  if (!(o.repeats >= 1)) throw new Error('--repeats: at least 1');
  return o;
}

const log = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The fleet's inventories cut down to the first N hosts, for plumb and for Ansible. */
function subsetInventories(fleet: Fleet, n: number, dir: string) {
  const cut = (path: string, out: string) => {
    const doc = YAML.parse(readFileSync(path, 'utf8'));
    const hosts = doc.all.children.mailers.hosts as Record<string, unknown>;
    doc.all.children.mailers.hosts = Object.fromEntries(Object.entries(hosts).slice(0, n));
    writeFileSync(out, YAML.stringify(doc, { lineWidth: 0 }));
    return out;
  };
  return {
    plumb: cut(fleet.inventoryPath, join(dir, `plumb-${n}.yaml`)),
    ansible: cut(fleet.ansibleInventoryPath, join(dir, `ansible-${n}.yaml`)),
  };
}

/** plumb's recap rows: host status ok changed failed unreachable seconds. */
function plumbRecap(stdout: string) {
  const rows = new Map<string, { status: string; changed: number; failed: number; unreachable: number }>();
  for (const m of stdout.matchAll(/^(mail\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+$/gm)) {
    rows.set(m[1], { status: m[2], changed: Number(m[4]), failed: Number(m[5]), unreachable: Number(m[6]) });
  }
  return rows;
}

function ansibleRecap(stdout: string) {
  const rows = new Map<string, { changed: number; failed: number; unreachable: number }>();
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return rows;
  for (const m of stdout.slice(at).matchAll(/^(mail\d+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    rows.set(m[1], { changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) });
  }
  return rows;
}

/**
 * What every host must be after a converge: read inside the host (not over ssh).
 * Returns the hosts that are not, with the first difference.
 */
async function checkState(fleet: Fleet, hosts: string[], relayhost: string, saslHash: string): Promise<string[]> {
  const expectKeys = KEYS.map(([, v]) => v(relayhost)).join('\n');
  const script = [
    'export PATH="$PATH:/usr/sbin:/sbin"',
    `[ -f ${PLAIN_SO} ] || { echo "libplain.so missing"; exit 1; }`,
    `[ "$(postconf -h ${KEYS.map(([k]) => k).join(' ')})" = '${expectKeys}' ] || { echo "main.cf differs"; exit 1; }`,
    `[ "$(sha256sum < /etc/postfix/sasl_passwd | cut -d' ' -f1)" = ${saslHash} ] || { echo "sasl_passwd differs"; exit 1; }`,
    `[ "$(stat -c '%a %U %G' /etc/postfix/sasl_passwd)" = '600 root root' ] || { echo "sasl_passwd mode/owner"; exit 1; }`,
    '[ /etc/postfix/sasl_passwd.db -nt /etc/postfix/sasl_passwd ] || [ ! /etc/postfix/sasl_passwd -nt /etc/postfix/sasl_passwd.db ] || { echo "sasl_passwd.db older than sasl_passwd"; exit 1; }',
    'kill -0 "$(cat /var/spool/postfix/pid/master.pid 2>/dev/null)" 2>/dev/null || { echo "postfix not running"; exit 1; }',
  ].join('\n');
  const limit = pLimit(8);
  const bad = await Promise.all(
    hosts.map((h) =>
      limit(async () => {
        const r = await fleet.exec(h, script);
        return r.code === 0 ? undefined : `${h}: ${(r.stdout + r.stderr).trim().split('\n')[0]}`;
      }),
    ),
  );
  return bad.filter((b): b is string => Boolean(b));
}

async function introduceDrift(fleet: Fleet, hosts: string[]) {
  const limit = pLimit(8);
  await Promise.all(
    hosts.map((h) =>
      limit(async () => {
        const r = await fleet.exec(
          h,
          // Postfix programs wait until main.cf is ~2 s old before trusting it (a file still being
          // edited); drift on a real host is older than that, so the files are dated a minute back.
          `rm -f ${PLAIN_SO} && /usr/sbin/postconf -e inet_protocols=all && printf '[x]:587 someone:else\\n' > /etc/postfix/sasl_passwd` +
            ` && touch -d "@$(( $(date +%s) - 60 ))" /etc/postfix/main.cf /etc/postfix/sasl_passwd`,
        );
        if (r.code !== 0) throw new Error(`${h}: could not introduce drift: ${r.stderr}`);
      }),
    ),
  );
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (it brings up the test fleet)');
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'plumb-bench-'));
  const groups: CpuGroup[] = [];
  let fleet: Fleet | undefined;
  const samples: Sample[] = [];
  let scaleRows: ScaleRow[] = [];
  let startupRows: StartupRow[] = [];
  let ansibleVersion = '';
  const groupTag = `plumb-bench-${process.pid}`;
  try {
    if (!opts.scaleOnly) {
      if (opts.build) {
        log('npm run build (plumb is measured from dist/, as installed)');
        execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
      }
      if (opts.startup) startupRows = await runStartup(log);
    }
    if (!opts.scaleOnly && opts.scenarios.length) {
      if (opts.tools.includes('ansible')) {
        ansibleVersion = ensureAnsible(log);
        log(ansibleVersion);
      }
      const group = {
        plumb: CpuGroup.create(`${groupTag}-plumb`),
        ansible: CpuGroup.create(`${groupTag}-ansible`),
        floor: CpuGroup.create(`${groupTag}-floor`),
      };
      groups.push(group.plumb, group.ansible, group.floor);

      const max = Math.max(...opts.hosts);
      fleet = await startFleet({ hosts: max, name: process.env.PLUMB_FLEET_NAME ?? 'bench', log });
      const f = fleet;
      const password = f.relay.password;
      const relayhost = `[${f.relay.host}]:587`;
      const saslContent = `${relayhost} ${f.relay.user}:${password}\n`;
      const saslHash = createHash('sha256').update(saslContent).digest('hex');
      const env = { ...process.env, GMAIL_APP_PASSWORD: password, NO_COLOR: '1', CI: 'true' };
      const controlDir = join(tmp, 'cp');
      mkdirSync(controlDir);
      const ansibleEnv = {
        ...env,
        ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_LOCAL_TEMP: join(tmp, 'ansible-tmp'),
      };
      const sshBase = (address: string) => [
        'ssh',
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'ControlMaster=no',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'IdentityAgent=none',
        '-o',
        `UserKnownHostsFile=${f.knownHostsPath}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'LogLevel=ERROR',
        '-i',
        f.identityPath,
        `root@${address}`,
      ];
      // The floor's check: the playbook's whole target state, read with one script (same checks as
      // plumb's probes: packages installed and their files intact per dpkg --verify, main.cf values,
      // sasl_passwd content and mode, postfix running). Exit 0 = converged.
      const checkScript = [
        'export PATH="$PATH:/usr/sbin:/sbin" LC_ALL=C',
        `[ "$(dpkg-query -W -f='\${db:Status-Status} ' postfix libsasl2-modules sasl2-bin)" = 'installed installed installed ' ] || exit 10`,
        `for p in postfix libsasl2-modules sasl2-bin; do dpkg --verify "$p" | awk 'substr($0,1,7) == "missing" || substr($0,11,1) != "c" { bad = 1 } END { exit bad }' || exit 11; done`,
        `[ "$(postconf -h ${KEYS.map(([k]) => k).join(' ')})" = '${KEYS.map(([, v]) => v(relayhost)).join('\n')}' ] || exit 12`,
        `[ "$(sha256sum < /etc/postfix/sasl_passwd | cut -d' ' -f1)" = ${saslHash} ] || exit 13`,
        `[ "$(stat -c '%a %U %G' /etc/postfix/sasl_passwd)" = '600 root root' ] || exit 14`,
        'service postfix status >/dev/null 2>&1 || exit 15',
        'echo converged',
      ].join('\n');
      // The drift floor: exactly the repairs, no checks (the new sasl_passwd comes on stdin).
      const repairScript = [
        'export PATH="$PATH:/usr/sbin:/sbin" DEBIAN_FRONTEND=noninteractive',
        'set -e',
        'apt-get -y -q -o Dpkg::Options::=--force-confmiss -o Dpkg::Options::=--force-confold install --reinstall libsasl2-modules >/dev/null',
        'postconf -e inet_protocols=ipv4',
        '(umask 077 && cat > /etc/postfix/sasl_passwd.tmp) && mv -f /etc/postfix/sasl_passwd.tmp /etc/postfix/sasl_passwd',
        'postmap /etc/postfix/sasl_passwd',
        'service postfix restart >/dev/null',
        'echo repaired',
      ].join('\n');

      for (const n of opts.hosts) {
        const inv = subsetInventories(f, n, tmp);
        const hosts = f.hosts.slice(0, n).map((h) => h.name);
        const addresses = f.hosts.slice(0, n).map((h) => h.address);
        const freshRuns = opts.fresh ?? (n <= 10 ? 3 : 1);

        const runPlumb = (playbook = PLAYBOOK) =>
          runMeasured(group.plumb, ['node', join(root, 'bin/plumb.js'), 'apply', playbook, '-i', inv.plumb, '--known-hosts', f.knownHostsPath, '--forks', String(n)], {
            env,
            cwd: root,
            timeoutMs: 900_000,
          });
        const runAnsible = () =>
          runMeasured(group.ansible, ['ansible-playbook', '-i', inv.ansible, '-f', String(n), join(ANSIBLE_DIR, 'postfix-gmail-relay.yml')], {
            env: ansibleEnv,
            cwd: ANSIBLE_DIR,
            timeoutMs: 900_000,
          });

        /** Outcome checks; `changed` = the per-host changed count a run must report. */
        const verify = async (tool: Tool, r: { code: number | null; stdout: string; stderr: string }, expect: (changed: number) => boolean): Promise<string | undefined> => {
          if (tool === 'plumb') {
            if (r.code !== 0) return `plumb exited ${r.code}: ${(r.stderr + r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
            const rows = plumbRecap(r.stdout);
            for (const h of hosts) {
              const row = rows.get(h);
              if (!row) return `no recap row for ${h}`;
              if (row.failed || row.unreachable || !expect(row.changed)) return `${h}: ${row.status} changed=${row.changed} failed=${row.failed}`;
            }
          } else if (tool === 'ansible') {
            if (r.code !== 0) return `ansible-playbook exited ${r.code}: ${(r.stdout + r.stderr).trim().split('\n').slice(-4).join(' | ')}`;
            const rows = ansibleRecap(r.stdout);
            for (const h of hosts) {
              const row = rows.get(h);
              if (!row) return `no PLAY RECAP row for ${h}`;
              if (row.failed || row.unreachable || !expect(row.changed)) return `${h}: changed=${row.changed} failed=${row.failed} unreachable=${row.unreachable}`;
            }
          }
          const bad = await checkState(f, hosts, relayhost, saslHash);
          return bad.length ? `${bad.length} host(s) not converged, e.g. ${bad[0]}` : undefined;
        };

        const record = (tool: Tool, scenario: Scenario, m: { wallS: number; cpuS: number; peakRssMB: number }, why: string | undefined) => {
          samples.push({ tool, scenario, hosts: n, ok: !why, why, wallS: m.wallS, cpuS: m.cpuS, peakRssMB: m.peakRssMB });
          log(`${n} hosts ${scenario} ${tool}: ${why ? `FAILED (${why})` : `${m.wallS.toFixed(2)} s wall, ${m.cpuS.toFixed(2)} CPU-s, ${m.peakRssMB.toFixed(0)} MB`}`);
        };

        const wanted = (order: Tool[]) => order.filter((t) => opts.tools.includes(t));
        // (a) fresh converge: reset, then each tool, alternating which goes first.
        for (let i = 0; i < (opts.scenarios.includes('fresh') ? freshRuns : 0); i++) {
          const order: Tool[] = i % 2 ? ['ansible', 'plumb'] : ['plumb', 'ansible'];
          for (const tool of wanted(order)) {
            log(`${n} hosts: resetting for a fresh converge (${tool}, ${i + 1}/${freshRuns})`);
            const limit = pLimit(8);
            await Promise.all(hosts.map((h) => limit(() => f.reset(h))));
            const r = tool === 'plumb' ? await runPlumb() : await runAnsible();
            // plumb: every task and both handlers change (4 + 2); Ansible: install, postconf, copy, start + 2 handlers.
            record(tool, 'fresh', r, await verify(tool, r, (c) => c >= 4));
          }
        }

        if (!opts.scenarios.includes('fresh')) {
          // The other scenarios start from converged hosts: converge once with plumb, unrecorded but verified.
          log(`${n} hosts: converging once (not measured)`);
          const why = await verify('plumb', await runPlumb(), (c) => c >= 0);
          if (why) throw new Error(`could not converge the hosts for the benchmark: ${why}`);
        }

        const dynamicNoop = opts.scenarios.includes('noop') && opts.tools.includes('plumb');
        if (dynamicNoop) {
          // Its twelve extra main.cf keys and the seed's eight: converged once, unrecorded but verified.
          log(`${n} hosts: converging bench/dynamic-relay.yaml once (not measured)`);
          const why = await verify('plumb', await runPlumb(DYNAMIC_PLAYBOOK), (c) => c >= 0);
          if (why) throw new Error(`could not converge the hosts with bench/dynamic-relay.yaml: ${why}`);
        }

        // (b) no-op re-run on converged hosts.
        const floorNoop = () =>
          runMeasuredParallel(
            group.floor,
            addresses.map((a) => ({ argv: [...sshBase(a), checkScript] })),
            { timeoutMs: 120_000 },
          );
        for (let i = 0; i < (opts.scenarios.includes('noop') ? opts.repeats : 0); i++) {
          const order: Tool[] = (['plumb', 'ansible', 'floor'] as Tool[]).map((_, k, all) => all[(k + i) % 3]);
          for (const tool of wanted(order)) {
            if (tool === 'floor') {
              const r = await floorNoop();
              const bad = r.results.findIndex((x) => x.code !== 0 || x.stdout.trim() !== 'converged');
              record('floor', 'noop', r, bad >= 0 ? `${hosts[bad]}: check script exited ${r.results[bad].code} ${r.results[bad].stderr.trim()}` : undefined);
            } else {
              const r = tool === 'plumb' ? await runPlumb() : await runAnsible();
              record(tool, 'noop', r, await verify(tool, r, (c) => c === 0));
            }
          }
          if (dynamicNoop) {
            const r = await runPlumb(DYNAMIC_PLAYBOOK);
            record('plumb', 'noop-dynamic', r, await verify('plumb', r, (c) => c === 0));
          }
        }

        // (c) drift on every host, then a run.
        for (let i = 0; i < (opts.scenarios.includes('drift') ? opts.repeats : 0); i++) {
          const order: Tool[] = (['plumb', 'ansible', 'floor'] as Tool[]).map((_, k, all) => all[(k + i) % 3]);
          for (const tool of wanted(order)) {
            await introduceDrift(f, hosts);
            if (tool === 'floor') {
              const r = await runMeasuredParallel(
                group.floor,
                addresses.map((a) => ({ argv: [...sshBase(a), repairScript], stdin: saslContent })),
                { timeoutMs: 600_000 },
              );
              const bad = r.results.findIndex((x) => x.code !== 0 || x.stdout.trim() !== 'repaired');
              const state = bad >= 0 ? [] : await checkState(f, hosts, relayhost, saslHash);
              record('floor', 'drift', r, bad >= 0 ? `${hosts[bad]}: repair exited ${r.results[bad].code} ${r.results[bad].stderr.trim()}` : state.length ? state[0] : undefined);
            } else {
              const r = tool === 'plumb' ? await runPlumb() : await runAnsible();
              // Reinstall, postconf, sasl_passwd, postmap, restart: 5 changes on every host.
              record(tool, 'drift', r, await verify(tool, r, (c) => c === 5));
            }
          }
        }
      }
      await fleet.stop();
      fleet = undefined;
    }
    if (opts.scale) scaleRows = await runScale(log);
  } finally {
    await fleet?.stop();
    for (const g of groups) await g.remove();
    rmSync(tmp, { recursive: true, force: true });
  }

  const report = formatReport(samples, startupRows, scaleRows, opts, ansibleVersion, (Date.now() - started) / 1000);
  if (!opts.scaleOnly) writeFileSync(opts.out, report);
  console.log(report);
  const failed = samples.filter((s) => !s.ok).length;
  if (failed) {
    console.error(`${failed} run(s) did not converge (see the failures column)`);
    process.exitCode = 1;
  }
}

function formatReport(samples: Sample[], startup: StartupRow[], scale: ScaleRow[], opts: Options, ansible: string, totalS: number): string {
  const out: string[] = [];
  const cell = (xs: number[], unit: string, digits = 2) =>
    xs.length ? `${median(xs).toFixed(digits)}${unit} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : '—';
  const name: Record<Tool, (s: Scenario) => string> = {
    plumb: () => 'plumb',
    ansible: () => 'Ansible',
    floor: (s) => (s === 'drift' ? 'drift floor (ssh + repair commands)' : 'floor (ssh + check script)'),
  };
  if (samples.length) {
    out.push(`# plumb vs Ansible — benchmark results`, '');
    out.push(
      `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ` +
        `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${ansible}. Whole run ${(totalS / 60).toFixed(1)} min.`,
      '',
      "Wall time median (min–max) over the runs; CPU = user+sys seconds of the tool's whole process tree (its own cpuacct cgroup, " +
        "so Ansible's detached ControlPersist ssh masters count too); memory = peak of the summed RSS of that tree (sampled every 50 ms). " +
        'Every run was verified (exit code, per-host changed counts in the recap, then the target state read inside every host) before its time counted.',
      '',
    );
    const scenarios: Array<[Scenario, string]> = [
      ['noop', 'no-op re-run'],
      ['noop-dynamic', 'no-op re-run of bench/dynamic-relay.yaml (facts, a 20-item loop, a registered read)'],
      ['drift', 'drift run (libplain.so deleted, inet_protocols=all, sasl_passwd changed, on every host)'],
      ['fresh', 'fresh converge (hosts reset to the bare image)'],
    ];
    out.push('| hosts | scenario | tool | runs ok | wall s | CPU s | peak MB | plumb ÷ this (wall) |', '|---|---|---|---|---|---|---|---|');
    for (const n of opts.hosts) {
      for (const [sc, label] of scenarios) {
        const pl = samples.filter((s) => s.hosts === n && s.scenario === sc && s.tool === 'plumb' && s.ok).map((s) => s.wallS);
        for (const tool of ['plumb', 'ansible', 'floor'] as Tool[]) {
          const all = samples.filter((s) => s.hosts === n && s.scenario === sc && s.tool === tool);
          if (!all.length) continue;
          const ok = all.filter((s) => s.ok);
          const ratio = tool === 'plumb' || !ok.length || !pl.length ? '' : `${(median(pl) / median(ok.map((s) => s.wallS))).toFixed(2)}x`;
          out.push(
            `| ${n} | ${label} | ${name[tool](sc)} | ${ok.length}/${all.length} | ${cell(
              ok.map((s) => s.wallS),
              '',
            )} | ${cell(
              ok.map((s) => s.cpuS),
              '',
            )} | ${cell(
              ok.map((s) => s.peakRssMB),
              '',
              0,
            )} | ${ratio} |`,
          );
        }
      }
    }
    const failures = samples.filter((s) => !s.ok);
    if (failures.length) {
      out.push('', '## Runs that did not converge (not counted above)', '');
      for (const s of failures) out.push(`- ${s.hosts} hosts, ${s.scenario}, ${s.tool}: ${s.why}`);
    }
    out.push('', '## Targets (issues 7 and 16)', '');
    const med = (n: number, sc: Scenario, tool: Tool, key: 'wallS' | 'cpuS' | 'peakRssMB' = 'wallS') => {
      const xs = samples.filter((s) => s.hosts === n && s.scenario === sc && s.tool === tool && s.ok).map((s) => s[key]);
      return xs.length ? median(xs) : NaN;
    };
    const max = (n: number, tool: Tool) => Math.max(...samples.filter((s) => s.hosts === n && s.tool === tool && s.ok).map((s) => s.peakRssMB));
    const target = (label: string, value: number, limit: number, fmt: (v: number) => string, lower = true) => {
      if (!Number.isFinite(value)) return out.push(`- ${label}: not measured`);
      out.push(`- ${label}: ${fmt(value)} — ${(lower ? value <= limit : value >= limit) ? 'met' : 'NOT met'}`);
    };
    const x = (v: number) => `${v.toFixed(2)}x`;
    for (const n of opts.hosts) {
      const floorLimit = n >= 50 ? 1.0 : 1.5;
      // Issue 16 raised the small-fleet bar from 10x to 12x once start-up was lazy.
      const fasterLimit = n >= 50 ? 20 : 12;
      target(`${n} hosts, no-op: plumb ÷ floor ≤ ${floorLimit}`, med(n, 'noop', 'plumb') / med(n, 'noop', 'floor'), floorLimit, x);
      target(`${n} hosts, no-op: Ansible ÷ plumb ≥ ${fasterLimit}`, med(n, 'noop', 'ansible') / med(n, 'noop', 'plumb'), fasterLimit, x, false);
      target(`${n} hosts, no-op CPU: plumb ÷ Ansible < 0.25`, med(n, 'noop', 'plumb', 'cpuS') / med(n, 'noop', 'ansible', 'cpuS'), 0.25, x);
      target(`${n} hosts, no-op of bench/dynamic-relay.yaml ÷ the seed's no-op (plumb) ≤ 1.3`, med(n, 'noop-dynamic', 'plumb') / med(n, 'noop', 'plumb'), 1.3, x);
      target(`${n} hosts, drift: plumb ÷ drift floor ≤ 1.3`, med(n, 'drift', 'plumb') / med(n, 'drift', 'floor'), 1.3, x);
      target(`${n} hosts, fresh converge: plumb ÷ Ansible ≤ 1`, med(n, 'fresh', 'plumb') / med(n, 'fresh', 'ansible'), 1, x);
      if (n >= 50) target(`${n} hosts, plumb peak memory < 200 MB`, max(n, 'plumb'), 200, (v) => `${v.toFixed(0)} MB`);
    }
  }
  if (startup.length) out.push(...(out.length ? [''] : []), ...formatStartup(startup));
  if (scale.length) out.push('', ...formatScale(scale));
  return out.join('\n') + '\n';
}

await main();
