/**
 * Transport benchmark: plumb's ssh transport vs OpenSSH's client, same run,
 * same sshd (loopback, 200 listen addresses 127.0.0.1-200, MaxStartups raised).
 *
 *   npm run bench:transport
 *
 * As root, logs in as a throwaway user whose shell is /bin/sh, so a heavy
 * ~/.bashrc of the machine's own account does not dominate every figure.
 *
 * sshd accepts at most 16 ListenAddress lines, so as root the benchmark
 * re-runs itself in a private network namespace (only `lo` exists there) and
 * lets sshd listen on 0.0.0.0, which then means exactly 127.0.0.0/8.
 * Without root all connections go to 127.0.0.1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { InventoryHost } from '../src/inventory/model.js';
import { openTransport, type TransportOptions } from '../src/transport/index.js';
import { makeKey, startSshd, tempDir } from '../test/transport/sshd.js';

const HOSTS = 200;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mb = (x: number) => `${(x / 1048576).toFixed(0)} MB`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

function runSsh(args: string[]): Promise<{ code: number | null; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ code, pid: child.pid! }) : reject(new Error(`ssh exited ${code}: ${err.trim()}`))));
  });
}

/** Sum of VmRSS of the given live processes. */
function rssOf(pids: Iterable<number>): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited
    }
  }
  return total;
}

/**
 * What an SFTP-based writeFile would cost (no become, no owner by name):
 * write a temp file, chmod it, posix-rename it into place.
 */
async function sftpWriteTimes(port: number, user: string, keyPath: string, content: Buffer): Promise<number[]> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve()).once('error', reject);
    client.connect({ host: '127.0.0.1', port, username: user, privateKey: readFileSync(keyPath), hostVerifier: () => true });
    client.setNoDelay(true);
  });
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  const cb = (resolve: () => void, reject: (e: Error) => void) => (err?: Error | null) => (err ? reject(err) : resolve());
  const times: number[] = [];
  const target = `/tmp/.plumb-bench-sftp-${process.pid}`;
  for (let i = 0; i < 50; i++) {
    const tmp = `${target}.${i}`;
    const [t] = await timed(async () => {
      await new Promise<void>((res, rej) => sftp.writeFile(tmp, content, { mode: 0o600 }, cb(res, rej)));
      await new Promise<void>((res, rej) => sftp.chmod(tmp, 0o644, cb(res, rej)));
      await new Promise<void>((res, rej) => sftp.ext_openssh_rename(tmp, target, cb(res, rej)));
    });
    times.push(t);
  }
  await new Promise<void>((res, rej) => sftp.unlink(target, cb(res, rej)));
  client.end();
  return times;
}

async function main() {
  const isRoot = process.getuid?.() === 0;
  const dir = tempDir('plumb-bench-');
  const user = isRoot ? `plumb_bench_${randomBytes(2).toString('hex')}` : userInfo().username;
  const inNamespace = process.env.PLUMB_BENCH_NETNS === '1';
  const listen = Array.from({ length: HOSTS }, (_, i) => (inNamespace ? `127.0.0.${i + 1}` : '127.0.0.1'));
  let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
  try {
    if (isRoot) {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', user]);
      execFileSync('usermod', ['-p', '*', user]);
    }
    const server = (sshd = await startSshd({ listen: [inNamespace ? '0.0.0.0' : '127.0.0.1'], maxStartups: '400:30:500', extraConfig: 'MaxSessions 10' }));
    const key = makeKey(dir, 'id_bench');
    execFileSync('chmod', ['600', key.path]);
    server.authorize(user, [key.pub]);
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.*]:${server.port} ${server.hostKeyPub}\n`);
    const options = (): TransportOptions => ({ knownHostsFiles: [knownHosts], agentSocket: false, sshConfigFile: '/dev/null' });
    const host = (addr: string): InventoryHost => ({
      name: addr,
      groups: ['all'],
      vars: {},
      connection: { host: addr, port: server.port, user, identity_file: key.path },
    });
    // ssh takes the first value given for an option: `extra` goes first.
    const sshArgs = (addr: string, extra: string[] = []) => [
      ...extra,
      '-F',
      '/dev/null',
      '-o',
      'ControlMaster=no',
      '-o',
      'BatchMode=yes',
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
      String(server.port),
      `${user}@${addr}`,
      'true',
    ];

    console.log(`plumb transport benchmark — ${HOSTS} hosts as ${inNamespace ? '127.0.0.1-200 (private netns)' : '127.0.0.1'}, one sshd (OpenSSH), user ${user}`);
    // Warm up both clients (JIT, page cache).
    for (let i = 0; i < 3; i++) {
      await (await openTransport(host('127.0.0.1'), options())).close();
      await runSsh(sshArgs('127.0.0.1'));
    }

    // 1. connect + auth
    const connectTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const [t, tr] = await timed(() => openTransport(host('127.0.0.1'), options()));
      connectTimes.push(t);
      await tr.close();
    }
    const sshTimes: number[] = [];
    for (let i = 0; i < 15; i++) sshTimes.push((await timed(() => runSsh(sshArgs('127.0.0.1'))))[0]);

    // 2. exec round trip on an open connection
    const tr = await openTransport(host('127.0.0.1'), options());
    const execTimes: number[] = [];
    for (let i = 0; i < 200; i++) execTimes.push((await timed(() => tr.exec('true')))[0]);
    const writeTimes: number[] = [];
    const content = randomBytes(4096);
    for (let i = 0; i < 50; i++) writeTimes.push((await timed(() => tr.writeFile(join('/tmp', `.plumb-bench-${process.pid}`), content)))[0]);
    // Naming an owner takes the shell path (the one sudo uses too).
    const shellWriteTimes: number[] = [];
    for (let i = 0; i < 50; i++) {
      shellWriteTimes.push((await timed(() => tr.writeFile(join('/tmp', `.plumb-bench-${process.pid}`), content, { owner: user })))[0]);
    }
    await tr.exec(`rm -f /tmp/.plumb-bench-${process.pid}`);
    await tr.close();
    const sftpTimes = await sftpWriteTimes(server.port, user, key.path, content);

    // OpenSSH over a ControlMaster: its best exec round trip.
    const ctl = join(dir, 'ctl');
    const master = spawn('ssh', sshArgs('127.0.0.1', ['-o', 'ControlMaster=yes', '-o', `ControlPath=${ctl}`, '-N']).slice(0, -1), {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (!existsSync(ctl) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!existsSync(ctl)) throw new Error('the OpenSSH ControlMaster did not start');
    const muxTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      muxTimes.push((await timed(() => runSsh(sshArgs('127.0.0.1', ['-o', `ControlPath=${ctl}`]))))[0]);
    }
    process.kill(master.pid!, 'SIGTERM');

    // 3. 200 hosts from one process: connect, run one command, close.
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const [fleetWall, fleetResults] = await timed(() =>
      Promise.allSettled(
        listen.map(async (addr) => {
          const t = await openTransport(host(addr), options());
          const r = await t.exec('true');
          await t.close();
          return r.code;
        }),
      ),
    );
    clearInterval(sampler);
    const fleetFailed = fleetResults.filter((r) => r.status === 'rejected');

    const sshPids = new Set<number>();
    let sshPeak = 0;
    const sshSampler = setInterval(() => (sshPeak = Math.max(sshPeak, rssOf(sshPids))), 20);
    const [sshFleetWall, sshFleetResults] = await timed(() =>
      Promise.allSettled(
        listen.map(
          (addr) =>
            new Promise<void>((resolve, reject) => {
              const child = spawn('ssh', sshArgs(addr), { stdio: 'ignore' });
              sshPids.add(child.pid!);
              child.on('close', (code) => {
                sshPids.delete(child.pid!);
                if (code === 0) resolve();
                else reject(new Error(`exit ${code}`));
              });
            }),
        ),
      ),
    );
    clearInterval(sshSampler);
    const sshFleetFailed = sshFleetResults.filter((r) => r.status === 'rejected');

    const rows = [
      ['connect + auth (median)', ms(median(connectTimes)), ms(median(sshTimes)) + '  (ssh -o ControlMaster=no host true)'],
      ['exec round trip (median)', ms(median(execTimes)), ms(median(muxTimes)) + '  (ssh over a ControlMaster)'],
      ['writeFile 4 KiB, SFTP path (median)', ms(median(writeTimes)) + ' (stat, temp, chmod, posix-rename)', '-'],
      ['writeFile 4 KiB, shell path (median)', ms(median(shellWriteTimes)) + ' (sh: mktemp, cat, chmod, chown, mv)', '-'],
      ['  raw ssh2 SFTP temp+chmod+rename', ms(median(sftpTimes)) + ' (floor for the SFTP path)', '-'],
      [`${HOSTS} hosts: wall time`, `${ms(fleetWall)} (${fleetFailed.length} failed)`, `${ms(sshFleetWall)} (${sshFleetFailed.length} failed, ${HOSTS} ssh processes)`],
      [`${HOSTS} hosts: peak memory`, `+${mb(peak - base)} RSS over ${mb(base)} (one process)`, `${mb(sshPeak)} summed RSS of ssh processes`],
    ];
    console.log('');
    console.log(['what', 'plumb (ssh2)', 'OpenSSH client'].join(' | '));
    console.log('--- | --- | ---');
    for (const r of rows) console.log(r.join(' | '));
    if (fleetFailed.length) console.log('plumb failures:', (fleetFailed[0] as PromiseRejectedResult).reason.message);
    if (sshFleetFailed.length) console.log('ssh failures:', (sshFleetFailed[0] as PromiseRejectedResult).reason.message);
  } finally {
    await sshd?.stop();
    if (isRoot) {
      try {
        execFileSync('userdel', ['-r', '-f', user], { stdio: 'ignore' });
      } catch {
        // never created
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.getuid?.() === 0 && process.env.PLUMB_BENCH_NETNS !== '1') {
  // Re-run inside a fresh network namespace: nothing but loopback, torn down when we exit.
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PLUMB_BENCH_NETNS: '1' },
  });
  child.on('close', (code) => process.exit(code ?? 1));
} else {
  await main();
}
