/**
 * The scale run without the fleet: up to 2,000 simulated hosts, served by
 * SSHDS OpenSSH sshds (MaxStartups and MaxSessions raised; hosts spread over
 * them by port) on loopback addresses 127.0.x.y inside a private network
 * namespace (only `lo` exists there, so sshd may listen on 0.0.0.0 — sshd
 * takes at most 16 ListenAddress lines). A check-only playbook that is already
 * converged (file, copy, lineinfile on the login user's home), so every figure
 * is connection fan-out + one probe round trip per host. plumb at 500, 1,000
 * and 2,000 hosts with at most FORKS hosts at once (each open connection is two
 * sshd processes on this machine: 2,000 at once would be several GB here, not
 * in the controller); the floor (one OpenSSH ssh per host, all at once, running
 * one check script) up to FLOOR_MAX hosts. RUNS runs each, medians.
 *
 * Called by bench/run.ts; on its own: `npx tsx bench/scale.ts` (root).
 * Knobs for profiling and A/B runs: PLUMB_SCALE_COUNTS, PLUMB_SCALE_RUNS,
 * PLUMB_SCALE_FLOOR_MAX (0 = no floor runs), PLUMB_SCALE_PLUMB (another
 * checkout's bin/plumb.js), PLUMB_SCALE_NODE_ARGS and PLUMB_SCALE_WRAP (below),
 * PLUMB_SCALE_KNOWN_HOSTS (below).
 * Logs in as a throwaway user with /bin/sh, so the machine's own ~/.bashrc
 * does not weigh on every exec.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { makeKey, startSshd } from '../test/transport/sshd.js';
import { CpuGroup, runMeasured, runMeasuredParallel } from './measure.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const COUNTS = (process.env.PLUMB_SCALE_COUNTS ?? '500,1000,2000').split(',').map(Number);
const RUNS = Number(process.env.PLUMB_SCALE_RUNS ?? 3);
const FORKS = 250;
const SSHDS = 4;
const FLOOR_MAX = Number(process.env.PLUMB_SCALE_FLOOR_MAX ?? 500);
/**
 * How known_hosts names the hosts: `wildcard` (default: one `[127.0.*.*]:port` line per sshd),
 * or as in a real fleet's file, one line per host, `per-host` plainly or `hashed`
 * (HashKnownHosts yes, Debian's default): every host is then looked up among N lines.
 */
const KNOWN_HOSTS = process.env.PLUMB_SCALE_KNOWN_HOSTS ?? 'wildcard';

export interface ScaleRow {
  hosts: number;
  tool: 'plumb' | 'floor';
  ok: number;
  runs: number;
  wallS: number[];
  cpuS: number[];
  peakRssMB: number[];
  error?: string;
}

function knownHostsText(shape: string, hosts: number, sshdOf: (i: number) => { port: number; hostKeyPub: string }): string {
  if (shape === 'wildcard') return [...new Set(Array.from({ length: SSHDS }, (_, i) => sshdOf(i)))].map((s) => `[127.0.*.*]:${s.port} ${s.hostKeyPub}\n`).join('');
  if (shape !== 'per-host' && shape !== 'hashed') throw new Error(`PLUMB_SCALE_KNOWN_HOSTS: wildcard, per-host or hashed, not ${shape}`);
  return Array.from({ length: hosts }, (_, i) => {
    const { port, hostKeyPub } = sshdOf(i);
    const name = `[${address(i)}]:${port}`;
    if (shape === 'per-host') return `${name} ${hostKeyPub}\n`;
    const salt = randomBytes(20);
    return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')} ${hostKeyPub}\n`;
  }).join('');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const address = (i: number) => `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** Runs the scale benchmark in a private network namespace and returns its rows. */
export async function runScale(log: (m: string) => void): Promise<ScaleRow[]> {
  log(`scale run: ${COUNTS.join(', ')} simulated hosts on ${SSHDS} sshds, in a private network namespace`);
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, '--import', 'tsx', self, '--child'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the scale run exited ${code}`));
      resolve(JSON.parse(out) as ScaleRow[]);
    });
  });
}

async function child(): Promise<ScaleRow[]> {
  const log = (m: string) => console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${m}`);
  const dir = mkdtempSync(join(tmpdir(), 'plumb-scale-'));
  chmodSync(dir, 0o755);
  const user = `plumb_scale_${randomBytes(2).toString('hex')}`;
  const rows: ScaleRow[] = [];
  const sshds: Array<Awaited<ReturnType<typeof startSshd>>> = [];
  const group = { plumb: CpuGroup.create(`plumb-scale-${process.pid}-plumb`), floor: CpuGroup.create(`plumb-scale-${process.pid}-floor`) };
  try {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', user]);
    execFileSync('usermod', ['-p', '*', user]);
    const home = `/home/${user}`;
    for (let i = 0; i < SSHDS; i++) sshds.push(await startSshd({ listen: ['0.0.0.0'], maxStartups: '1000:30:2000', extraConfig: 'MaxSessions 20' }));
    const key = makeKey(dir, 'id_scale');
    chmodSync(key.path, 0o600);
    for (const sshd of sshds) sshd.authorize(user, [key.pub]);
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(
      knownHosts,
      knownHostsText(KNOWN_HOSTS, Math.max(...COUNTS), (i) => sshds[i % SSHDS]),
    );
    const portOf = (i: number) => sshds[i % SSHDS].port;

    const playbook = join(dir, 'check.yaml');
    writeFileSync(
      playbook,
      YAML.stringify([
        {
          name: 'Check-only scale play',
          hosts: 'all',
          tasks: [
            { name: 'state directory', file: { path: `${home}/plumb-scale`, state: 'directory', mode: '0755' } },
            { name: 'motd', copy: { dest: `${home}/plumb-scale/motd`, content: 'managed by plumb\n', mode: '0644' } },
            { name: 'a setting', lineinfile: { path: `${home}/plumb-scale/settings.conf`, line: 'answer=42', create: true } },
          ],
        },
      ]),
    );
    const inventory = (n: number) => {
      const path = join(dir, `inventory-${n}.yaml`);
      const hosts = Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i + 1}`, { host: address(i), port: portOf(i) }]));
      writeFileSync(path, YAML.stringify({ all: { vars: { user, identity_file: key.path }, hosts } }));
      return path;
    };
    const plumb = (n: number) =>
      runMeasured(
        group.plumb,
        [
          // e.g. PLUMB_SCALE_WRAP='perf record -F 499 -g -o /tmp/plumb.perf --' with
          // PLUMB_SCALE_NODE_ARGS=--perf-basic-prof: a CPU-time profile (V8's --cpu-prof samples
          // wall time, which on a loaded machine piles onto socket writes that wake sshd)
          ...(process.env.PLUMB_SCALE_WRAP?.split(' ').filter(Boolean) ?? []),
          'node',
          // e.g. PLUMB_SCALE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to see where plumb's CPU goes
          ...(process.env.PLUMB_SCALE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          process.env.PLUMB_SCALE_PLUMB ?? join(root, 'bin/plumb.js'),
          'apply',
          playbook,
          '-i',
          inventory(n),
          '--known-hosts',
          knownHosts,
          '--ssh-config',
          '/dev/null',
          '--forks',
          String(Math.min(n, FORKS)),
          '--connect-timeout',
          '30',
        ],
        {
          cwd: root,
          env: { ...process.env, NO_COLOR: '1', CI: 'true', SSH_AUTH_SOCK: '' },
          timeoutMs: 300_000,
        },
      );
    // Converge once (one host: every "host" is this machine and this user).
    const first = await plumb(1);
    if (first.code !== 0) throw new Error(`scale playbook did not converge: ${first.stderr}${first.stdout}`);

    const check = [
      `[ -d ${home}/plumb-scale ] && [ "$(stat -c %a ${home}/plumb-scale)" = 755 ]`,
      `[ "$(cat ${home}/plumb-scale/motd)" = 'managed by plumb' ] && [ "$(stat -c %a ${home}/plumb-scale/motd)" = 644 ]`,
      `grep -qx 'answer=42' ${home}/plumb-scale/settings.conf`,
      'echo converged',
    ].join(' && ');
    const ssh = (i: number) => [
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
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'LogLevel=ERROR',
      '-i',
      key.path,
      '-p',
      String(portOf(i)),
      `${user}@${address(i)}`,
      check,
    ];

    for (const n of COUNTS) {
      const pr: ScaleRow = { hosts: n, tool: 'plumb', ok: 0, runs: 0, wallS: [], cpuS: [], peakRssMB: [] };
      const fr: ScaleRow = { hosts: n, tool: 'floor', ok: 0, runs: 0, wallS: [], cpuS: [], peakRssMB: [] };
      for (let i = 0; i < RUNS; i++) {
        const order = i % 2 ? ['floor', 'plumb'] : ['plumb', 'floor'];
        for (const tool of order) {
          if (tool === 'floor' && n > FLOOR_MAX) continue;
          if (tool === 'plumb') {
            const r = await plumb(n);
            pr.runs++;
            const okRows = [...r.stdout.matchAll(/^h\d+\s+ok\s+3\s+0\s+0\s+0\s/gm)].length;
            if (r.code === 0 && okRows === n) {
              pr.ok++;
              pr.wallS.push(r.wallS);
              pr.cpuS.push(r.cpuS);
              pr.peakRssMB.push(r.peakRssMB);
            } else
              pr.error = `exit ${r.code}, ${okRows}/${n} hosts ok: ${(r.stdout + r.stderr)
                .split('\n')
                .filter((l) => /^h\d+: /.test(l))
                .slice(0, 3)
                .join(' | ')}`;
            log(`${n} hosts plumb: ${r.wallS.toFixed(2)} s, ${r.cpuS.toFixed(2)} CPU-s (${r.sysS.toFixed(2)} in the kernel), ${r.peakRssMB.toFixed(0)} MB, ${okRows}/${n} ok`);
          } else {
            const r = await runMeasuredParallel(
              group.floor,
              Array.from({ length: n }, (_, k) => ({ argv: ssh(k) })),
              { timeoutMs: 300_000 },
            );
            fr.runs++;
            const good = r.results.filter((x) => x.code === 0 && x.stdout.trim() === 'converged').length;
            if (good === n) {
              fr.ok++;
              fr.wallS.push(r.wallS);
              fr.cpuS.push(r.cpuS);
              fr.peakRssMB.push(r.peakRssMB);
            } else fr.error = `${good}/${n} ssh ok: ${r.results.find((x) => x.code !== 0)?.stderr.trim()}`;
            log(`${n} hosts floor: ${r.wallS.toFixed(2)} s, ${r.cpuS.toFixed(2)} CPU-s, ${r.peakRssMB.toFixed(0)} MB, ${good}/${n} ok`);
          }
        }
      }
      rows.push(pr);
      if (fr.runs) rows.push(fr);
    }
  } finally {
    for (const sshd of sshds) await sshd.stop();
    for (const g of Object.values(group)) await g.remove();
    try {
      execFileSync('userdel', ['-r', '-f', user], { stdio: 'ignore' });
    } catch {
      // never created
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatScale(rows: ScaleRow[]): string[] {
  const out = [
    '## Scale run: simulated hosts from one process (no fleet)',
    '',
    `A converged check-only play (file, copy, lineinfile) against N loopback addresses 127.0.x.y served by ${SSHDS} OpenSSH sshds ` +
      `(MaxStartups 1000:30:2000) in a private network namespace; plumb with --forks ${FORKS} (at most ${FORKS} hosts connected at once) ` +
      `and --connect-timeout 30; the floor (every ssh at once) up to ${FLOOR_MAX} hosts; ${RUNS} runs each, median (min–max). ` +
      "The sshds run on the same 2 cores and their CPU is not in the figures. CPU per host = the run's CPU ÷ N (start-up included); " +
      'the marginal columns are the slope from the smallest row (what one more host costs).',
    '',
    '| hosts | tool | runs ok | wall s | CPU s | peak MB | CPU ms per host | marginal CPU ms per host | marginal MB per host |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const range = (xs: number[], d = 2) => (xs.length ? `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})` : '—');
  for (const r of rows) {
    const base = rows.filter((b) => b.tool === r.tool && b.cpuS.length).sort((a, b) => a.hosts - b.hosts)[0];
    // Only plumb's is one process; the floor's sum of short-lived ssh processes has no per-host slope.
    const slope = (key: 'cpuS' | 'peakRssMB', scale: number) =>
      r.tool === 'plumb' && base && r.hosts > base.hosts && r[key].length ? (((median(r[key]) - median(base[key])) / (r.hosts - base.hosts)) * scale).toFixed(2) : '';
    out.push(
      `| ${r.hosts} | ${r.tool === 'plumb' ? 'plumb' : 'floor (ssh + check)'} | ${r.ok}/${r.runs} | ${range(r.wallS)} | ${range(r.cpuS)} | ${range(r.peakRssMB, 0)} | ` +
        `${r.cpuS.length ? ((median(r.cpuS) / r.hosts) * 1000).toFixed(2) : '—'} | ${slope('cpuS', 1000)} | ${slope('peakRssMB', 1)} |`,
    );
  }
  const failed = rows.filter((r) => r.error);
  for (const r of failed) out.push('', `- ${r.hosts} hosts ${r.tool}: last failure: ${r.error}`);
  return out;
}

if (process.argv.includes('--child')) {
  const rows = await child();
  process.stdout.write(JSON.stringify(rows));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runScale((m) => console.error(m));
  console.log(formatScale(rows).join('\n'));
}
