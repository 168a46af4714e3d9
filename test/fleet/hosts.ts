/**
 * One fleet host: an overlayfs over the image (upper dir on the fleet's tmpfs),
 * its own network namespace (veth to the fleet bridge), UTS namespace
 * (hostname) and PID namespace (with its own /proc, so `ps` and `pkill` inside
 * a host see only that host), devpts, the offline repo bind-mounted read-only,
 * and its own sshd started chrooted inside those namespaces.
 *
 * Processes enter a host with nsenter into those namespaces plus chroot; never
 * `ip netns exec`, which gives each process a private mount namespace that
 * keeps old host filesystems alive after a reset (notes/fleet.md). All mounts
 * stay in the machine's mount namespace, under the fleet's private tmpfs.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runSync, sleep, type RunResult } from './run.js';
import { netnsName, vethName, hostName, hostAddress, type FleetNames } from './naming.js';

export const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', USER: 'root', LOGNAME: 'root' };
export const RELAY_CERT_NAME = 'plumb-fleet-relay.pem';

export interface HostSpec {
  index: number;
  name: string;
  address: string;
}

export interface HostPaths {
  dir: string;
  root: string;
  upper: string;
  work: string;
  uts: string;
  netns: string;
  veth: string;
}

export function hostSpec(k: number, i: number): HostSpec {
  return { index: i, name: hostName(i), address: hostAddress(k, i) };
}

export function hostPaths(n: FleetNames, h: HostSpec): HostPaths {
  const dir = join(n.mntDir, h.name);
  return {
    dir,
    root: join(dir, 'root'),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    uts: join(dir, 'uts'),
    netns: netnsName(n.name, h.name),
    veth: vethName(n.name, h.index),
  };
}

/** What every host gets at creation and after a reset. */
export interface HostMaterial {
  rootfs: string;
  repo: string;
  authorizedKey: string;
  /** Directory with this fleet's per-host host keys: <host>/ssh_host_ed25519_key{,.pub}. */
  hostKeysDir: string;
  relayCertPath: string;
  relayCertHash: string;
  relayIp: string;
}

/** Overlay, mounts and per-host files; the filesystem half of a host. */
async function makeFilesystem(n: FleetNames, h: HostSpec, m: HostMaterial) {
  const p = hostPaths(n, h);
  for (const d of [p.root, p.upper, p.work]) mkdirSync(d, { recursive: true });
  await run(['mount', '-t', 'overlay', `overlay-${n.name}-${h.name}`, '-o', `lowerdir=${m.rootfs},upperdir=${p.upper},workdir=${p.work}`, p.root]);
  const r = (f: string) => join(p.root, f);
  writeFileSync(r('etc/hostname'), h.name + '\n');
  writeFileSync(r('etc/mailname'), h.name + '\n');
  writeFileSync(r('etc/hosts'), `127.0.0.1\tlocalhost\n${h.address}\t${h.name}\n${m.relayIp}\tsmtp.plumb.test\n`);
  writeFileSync(r('root/.ssh/authorized_keys'), m.authorizedKey, { mode: 0o600 });
  for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub']) copyFileSync(join(m.hostKeysDir, h.name, f), r(`etc/ssh/${f}`));
  chmodSync(r('etc/ssh/ssh_host_ed25519_key'), 0o600);
  // The relay's self-signed certificate in the default CA path, with its c_rehash link.
  copyFileSync(m.relayCertPath, r(`etc/ssl/certs/${RELAY_CERT_NAME}`));
  symlinkSync(RELAY_CERT_NAME, r(`etc/ssl/certs/${m.relayCertHash}.0`));
  writeFileSync(r(INIT_PATH.slice(1)), REAPER, { mode: 0o755 });
  // devpts of its own; /dev/ptmx must point into it instead of the machine's.
  rmSync(r('dev/ptmx'), { force: true });
  symlinkSync('pts/ptmx', r('dev/ptmx'));
  await run(['mount', '-t', 'devpts', '-o', 'newinstance,ptmxmode=0666,mode=0620,gid=5', `devpts-${n.name}-${h.name}`, r('dev/pts')]);
  await run(['mount', '--bind', '-o', 'ro', m.repo, r('srv/repo')]);
}

/**
 * PID 1 of a host: reaps orphans (daemons that double-fork end up here) and
 * waits for SIGCHLD without polling. The image's python3 is the smallest
 * reaper at hand; the script is written into each host at INIT_PATH.
 */
export const INIT_PATH = '/usr/local/sbin/plumb-fleet-init';
const REAPER = `#!/usr/bin/python3
# PID 1 of a plumb test fleet host: reaps orphaned processes.
import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
while True:
    signal.sigwait({signal.SIGCHLD})
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
`;

/** The processes that make a running host: its PID namespace holder, and sshd's launcher. */
export interface HostProcs {
  /** `unshare --pid --fork` whose child is the host's PID 1; killing it ends every process of the host. */
  init: number;
  /** The nsenter whose child is the host's sshd (absent while sshd is stopped). */
  sshd?: number;
}

/** Create a host: namespaces, veth and filesystem, then its init and sshd. */
export async function createHost(n: FleetNames, h: HostSpec, m: HostMaterial): Promise<HostProcs> {
  const p = hostPaths(n, h);
  mkdirSync(p.dir, { recursive: true });
  writeFileSync(p.uts, '');
  await run(['unshare', `--uts=${p.uts}`, 'hostname', h.name]);
  await run(['ip', 'netns', 'add', p.netns]);
  await run(['ip', 'link', 'add', p.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.netns]);
  await run(['ip', 'link', 'set', p.veth, 'master', n.bridge, 'up']);
  await run(['ip', '-n', p.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
  await run(['ip', '-n', p.netns, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', p.netns, 'link', 'set', 'eth0', 'up']);
  await makeFilesystem(n, h, m);
  return startProcs(n, h);
}

async function startProcs(n: FleetNames, h: HostSpec): Promise<HostProcs> {
  const init = await startInit(n, h);
  return { init, sshd: startSshd(n, h, init) };
}

/**
 * Start the host's PID namespace. Its PID 1 mounts the host's /proc (a proc
 * mount shows the PID namespace of whoever mounts it), then becomes the reaper.
 */
async function startInit(n: FleetNames, h: HostSpec): Promise<number> {
  const p = hostPaths(n, h);
  const argv = [
    'nsenter',
    `--net=/run/netns/${p.netns}`,
    `--uts=${p.uts}`,
    'unshare',
    '--pid',
    '--fork',
    '--kill-child',
    'chroot',
    p.root,
    '/bin/sh',
    '-c',
    'mount -t proc "$1" /proc && exec "$0"',
    INIT_PATH,
    `proc-${n.name}-${h.name}`,
  ];
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore', env: HOST_ENV });
  child.unref();
  if (!child.pid) throw new Error(`cannot start the init of ${h.name}`);
  const deadline = Date.now() + 15_000;
  while (!existsSync(join(p.root, 'proc/1/status'))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the init of ${h.name} did not come up`);
    await sleep(20);
  }
  return child.pid;
}

/** The argv prefix that enters a running host: its PID, network and UTS namespaces, then chroot. */
export function enterArgv(n: FleetNames, h: HostSpec, init: number): string[] {
  const p = hostPaths(n, h);
  return ['nsenter', `--pid=/proc/${init}/ns/pid_for_children`, `--net=/run/netns/${p.netns}`, `--uts=${p.uts}`, 'chroot', p.root];
}

/**
 * Start sshd inside the host, detached so a CLI-started fleet outlives the CLI.
 * Returns the launcher's PID: nsenter forks into the PID namespace, and its child is sshd.
 */
export function startSshd(n: FleetNames, h: HostSpec, init: number): number {
  const argv = [...enterArgv(n, h, init), '/usr/sbin/sshd', '-D', '-E', '/var/log/sshd.log'];
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore', env: HOST_ENV });
  child.unref();
  if (!child.pid) throw new Error(`cannot start sshd on ${h.name}`);
  return child.pid;
}

/** Stop sshd's listener (sessions it forked go on, as on a real host); its launcher then exits. */
export function stopSshd(launcher: number) {
  killAndWait([...childrenOf(launcher), launcher]);
}

function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of stat is the parent PID; the command name in field 2 may contain spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) kids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return kids;
}

export async function waitForPort(address: string, port: number, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: address, port, timeout: 1000 });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer on ${address}:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export function execInHost(n: FleetNames, h: HostSpec, init: number, cmd: string, input?: string): Promise<RunResult> {
  return run([...enterArgv(n, h, init), '/bin/sh', '-c', cmd], { allowFail: true, env: HOST_ENV, input });
}

/** PIDs of every process inside the host's network namespace — all of them started by the fleet. */
export function hostPids(netns: string): number[] {
  const r = runSync(['ip', 'netns', 'pids', netns], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * End every process of a host. The ones inside its PID namespace go first, while
 * their parents outside (the nsenter and unshare launchers) are still alive to
 * reap them at once; an orphan would wait for the machine's init to reap it,
 * and the namespace's teardown waits for that (seconds, measured).
 */
export function killHosts(netnsList: string[]) {
  const ours = readlinkSync('/proc/self/ns/pid');
  const pidns = (pid: number) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      return ours;
    }
  };
  const all = () => netnsList.flatMap(hostPids);
  killAndWait(all().filter((pid) => pidns(pid) !== ours));
  killAndWait(all());
}

export function killAndWait(pids: number[], timeoutMs = 5000) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (existsSync(`/proc/${pid}`) && !isZombie(pid) && Date.now() < deadline) runSync(['sleep', '0.02']);
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** Mount points at or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

export function unmountAll(dir: string) {
  for (let pass = 0; pass < 3; pass++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      if (runSync(['umount', m], { allowFail: true }).code !== 0) runSync(['umount', '-l', m], { allowFail: true });
    }
  }
  const left = mountsUnder(dir);
  if (left.length) throw new Error(`cannot unmount: ${left.join(', ')}`);
}

/** Make a host fresh: end its processes, drop its overlay upper dir, rebuild, restart sshd. */
export async function resetHost(n: FleetNames, h: HostSpec, m: HostMaterial): Promise<HostProcs> {
  const p = hostPaths(n, h);
  killHosts([p.netns]);
  unmountAll(p.root);
  rmSync(p.upper, { recursive: true, force: true });
  rmSync(p.work, { recursive: true, force: true });
  await makeFilesystem(n, h, m);
  return startProcs(n, h);
}
