/**
 * startFleet(): N real Debian hosts plus the stand-in relay, and everything
 * plumb needs to reach them (inventory, known_hosts, identity). Teardown ends
 * only what the fleet started, found by the fleet's name: processes inside its
 * network namespaces, its mounts under its state dir, its namespaces, veths and
 * bridge — so it also cleans up after a crashed run (`npm run fleet -- down`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, readlinkSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import YAML from 'yaml';
import { ensureImage } from './image.js';
import { fleetName, names, subnetFor, knownSubnet, netnsPattern, vethPattern, MAX_HOSTS, STATE_ROOT, type FleetNames } from './naming.js';
import {
  createHost,
  execInHost,
  hostPaths,
  hostPids,
  hostSpec,
  killAndWait,
  killHosts,
  resetHost,
  startSshd,
  stopSshd,
  unmountAll,
  waitForPort,
  type HostMaterial,
  type HostProcs,
  type HostSpec,
} from './hosts.js';
import { makeRelayCertificate, startRelay, type Mechanism, type Relay, type RelayConfig, type RelayMessage } from './relay.js';
import { run, runSync, type RunResult } from './run.js';

export type { RelayMessage, Mechanism } from './relay.js';

export interface FleetOptions {
  hosts: number;
  relay?: { mechanisms?: Mechanism[]; user?: string; password?: string };
  /** Default: env PLUMB_FLEET_NAME, else `plumb` (bridge plumb0, 10.233.0.0/24). */
  name?: string;
  log?: (message: string) => void;
  /**
   * For the CLI: leave the fleet running when this process exits and run the
   * relay as a detached process (recorded by PID) instead of in-process.
   */
  detach?: boolean;
}

export interface FleetRelay {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The relay's self-signed certificate (its own CA); also installed in every host's /etc/ssl/certs. */
  caCertPath: string;
  mechanisms: Mechanism[];
  /** Live list of accepted messages (in-process relay only; a detached relay appends to messagesPath). */
  messages: RelayMessage[];
  messagesPath: string;
  waitForMessage(predicate: (m: RelayMessage) => boolean, timeoutMs: number): Promise<RelayMessage>;
}

export interface Fleet {
  name: string;
  inventoryPath: string;
  /** The same hosts and vars with Ansible's ansible_* connection keys, for the benchmark's comparison. */
  ansibleInventoryPath: string;
  knownHostsPath: string;
  identityPath: string;
  hosts: Array<{ name: string; address: string }>;
  relay: FleetRelay;
  /** Run a shell command inside a host (its namespaces + chroot), bypassing ssh and plumb. */
  exec(host: string, cmd: string, input?: string): Promise<RunResult>;
  /** Like exec, for a command that must succeed: its stdout, trimmed; a failure throws with its stderr. */
  sh(host: string, cmd: string, input?: string): Promise<string>;
  reset(host: string): Promise<void>;
  stopSshd(host: string): Promise<void>;
  startSshd(host: string): Promise<void>;
  stop(): Promise<void>;
}

/** What survives the process that started the fleet, for status/reset/down from the CLI. */
interface FleetState {
  name: string;
  k: number;
  ownerPid: number;
  detached: boolean;
  hosts: HostSpec[];
  /** Per host: its PID-namespace holder and sshd launcher. */
  procs: Record<string, HostProcs>;
  relayPid?: number;
  relay: { host: string; port: number; user: string; mechanisms: Mechanism[] };
  material: HostMaterial;
}

const DEFAULT_RELAY_USER = 'relay@plumb.test';

function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A CLI-started fleet outlives its starter; it is alive while its relay or any sshd is. */
function inUse(s: FleetState): boolean {
  if (!s.detached) return pidAlive(s.ownerPid);
  return (!!s.relayPid && isOurRelay(s.relayPid)) || Object.values(s.procs).some((p) => pidAlive(p.init));
}

export function readState(name: string): FleetState | undefined {
  const k = knownSubnet(name);
  if (k === undefined) return undefined;
  const path = names(name, k).statePath;
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as FleetState;
}

function writeState(n: FleetNames, s: FleetState) {
  writeFileSync(n.statePath + '.tmp', JSON.stringify(s, null, 2) + '\n');
  renameSync(n.statePath + '.tmp', n.statePath);
}

export function requireRoot() {
  if (process.getuid?.() !== 0) throw new Error('the test fleet needs root (namespaces, mounts, chroot)');
}

// ---- teardown -------------------------------------------------------------

/**
 * Remove every trace of fleet `name`: synchronous so it can run from a process
 * 'exit' handler. Safe to call when nothing (or half a fleet) exists.
 */
export function teardownFleet(nameArg?: string) {
  const name = fleetName(nameArg);
  // Paths and link names do not depend on the subnet, so this also works without the registry.
  const n = names(name, knownSubnet(name) ?? 0);
  const state = readState(name);

  if (state?.relayPid && isOurRelay(state.relayPid)) killAndWait([state.relayPid]);

  const netnsList = runSync(['ip', 'netns', 'list'], { allowFail: true })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0])
    .filter((ns) => netnsPattern(name).test(ns));
  // Everything running inside the fleet's namespaces was started by the fleet.
  killHosts(netnsList);
  killAndWait(chrootedUnder(n.mntDir));
  let unmountError: unknown;
  try {
    unmountAll(n.stateDir);
  } catch (e) {
    unmountError = e; // go on with the network side, but never rm -rf through a live mount
  }
  for (const ns of netnsList) runSync(['ip', 'netns', 'del', ns], { allowFail: true });
  const links = runSync(['ip', '-o', 'link', 'show'], { allowFail: true })
    .stdout.split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0])
    .filter((l): l is string => !!l);
  for (const l of links) if (vethPattern(name).test(l)) runSync(['ip', 'link', 'del', l], { allowFail: true });
  if (links.includes(n.bridge)) runSync(['ip', 'link', 'del', n.bridge], { allowFail: true });
  if (unmountError) throw unmountError;
  rmSync(n.stateDir, { recursive: true, force: true });
}

function isOurRelay(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('relay-main');
  } catch {
    return false;
  }
}

/** Processes whose root directory is inside the fleet (a safety net beyond the netns scan). */
function chrootedUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/root`).startsWith(dir + '/')) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

// ---- up --------------------------------------------------------------------

const liveFleets = new Map<string, () => void>();
let handlersInstalled = false;

function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const stopAll = () => {
    for (const [, stop] of liveFleets) stop();
  };
  process.on('exit', stopAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      stopAll();
      process.kill(process.pid, sig);
    });
  }
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  requireRoot();
  const log = opts.log ?? (() => {});
  const name = fleetName(opts.name);
  const count = opts.hosts;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new Error(`hosts must be 1..${MAX_HOSTS}, got ${count}`);
  const mechanisms = opts.relay?.mechanisms ?? ['PLAIN'];
  if (mechanisms.length === 0 || mechanisms.some((m) => m !== 'PLAIN' && m !== 'LOGIN'))
    throw new Error(`relay mechanisms must be PLAIN and/or LOGIN, got ${JSON.stringify(mechanisms)}`);

  const existing = readState(name);
  if (existing && existing.ownerPid === process.pid) throw new Error(`fleet "${name}" is already running in this process`);
  if (existing && inUse(existing))
    throw new Error(
      `fleet "${name}" is already up (${existing.detached ? '`npm run fleet -- up`' : `started by PID ${existing.ownerPid}`}); ` +
        'stop it with `npm run fleet -- down` or use another name (PLUMB_FLEET_NAME)',
    );
  teardownFleet(name); // leftovers of a crashed run

  const image = await ensureImage(log);
  const k = await subnetFor(name);
  const n = names(name, k);
  const t0 = Date.now();
  mkdirSync(n.stateDir, { recursive: true });
  const state: FleetState = {
    name,
    k,
    ownerPid: process.pid,
    detached: !!opts.detach,
    hosts: [],
    procs: {},
    relay: { host: n.relayIp, port: 587, user: opts.relay?.user ?? DEFAULT_RELAY_USER, mechanisms },
    material: undefined as unknown as HostMaterial,
  };
  writeState(n, state);

  let stopped = false;
  let relay: Relay | undefined;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    liveFleets.delete(name);
    teardownFleet(name);
  };
  if (!opts.detach) {
    liveFleets.set(name, stopSync);
    installExitHandlers();
  }

  try {
    // Host upper dirs live on a tmpfs of the fleet's own, private so the many
    // host mounts below it do not propagate into other mount namespaces.
    mkdirSync(n.mntDir, { recursive: true });
    const sizeMiB = Math.min(16384, 512 + count * 320);
    await run(['mount', '-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, `tmpfs-${name}`, n.mntDir]);
    await run(['mount', '--make-rprivate', n.mntDir]);

    mkdirSync(n.sshDir, { recursive: true, mode: 0o700 });
    const identityPath = join(n.sshDir, 'id_ed25519');
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `plumb-fleet-${name}`, '-f', identityPath]);

    const hosts = Array.from({ length: count }, (_, i) => hostSpec(k, i + 1));
    const hostKeysDir = join(n.stateDir, 'hostkeys');
    await Promise.all(
      hosts.map(async (h) => {
        mkdirSync(join(hostKeysDir, h.name), { recursive: true });
        await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${h.name}`, '-f', join(hostKeysDir, h.name, 'ssh_host_ed25519_key')]);
      }),
    );

    const relayDir = join(n.stateDir, 'relay');
    mkdirSync(relayDir, { recursive: true, mode: 0o700 });
    const caCertPath = join(relayDir, 'cert.pem');
    const keyPath = join(relayDir, 'key.pem');
    await makeRelayCertificate(caCertPath, keyPath, n.relayIp);
    const relayCertHash = (await run(['openssl', 'x509', '-hash', '-noout', '-in', caCertPath])).stdout.trim();
    const password = opts.relay?.password ?? randomBytes(12).toString('base64url');
    writeFileSync(join(relayDir, 'password'), password + '\n', { mode: 0o600 });

    // Safety net for the network rule: with a fleet's bridge gone, its addresses
    // would follow the default route off the machine. Shared by all fleets, so it stays.
    if (!(await run(['ip', 'route', 'show', 'type', 'blackhole', '10.233.0.0/16'])).stdout.trim())
      await run(['ip', 'route', 'add', 'blackhole', '10.233.0.0/16'], { allowFail: true });
    await run(['ip', 'link', 'add', n.bridge, 'type', 'bridge']);
    await run(['ip', 'addr', 'add', `${n.relayIp}/24`, 'dev', n.bridge]);
    await run(['ip', 'link', 'set', n.bridge, 'up']);

    const relayCfg: RelayConfig = { host: n.relayIp, port: 587, user: state.relay.user, password, mechanisms, certPath: caCertPath, keyPath };
    const messagesPath = join(relayDir, 'messages.jsonl');
    if (opts.detach) {
      state.relayPid = await startDetachedRelay(relayCfg, relayDir, messagesPath);
      writeState(n, state); // so a failure from here on still ends the relay
    } else {
      relay = await startRelay(relayCfg);
    }

    const material: HostMaterial = {
      rootfs: image.rootfs,
      repo: image.repo,
      authorizedKey: readFileSync(identityPath + '.pub', 'utf8'),
      hostKeysDir,
      relayCertPath: caCertPath,
      relayCertHash,
      relayIp: n.relayIp,
    };
    state.material = material;
    state.hosts = hosts;
    writeState(n, state);

    const limit = pLimit(8);
    await Promise.all(hosts.map((h) => limit(async () => (state.procs[h.name] = await createHost(n, h, material)))));
    writeState(n, state);
    await Promise.all(hosts.map((h) => waitForPort(h.address, 22, 30_000, `sshd of ${h.name}`)));

    const knownHostsPath = join(n.sshDir, 'known_hosts');
    writeFileSync(
      knownHostsPath,
      hosts
        .map(
          (h) =>
            `${h.address},${h.name} ${readFileSync(join(hostKeysDir, h.name, 'ssh_host_ed25519_key.pub'), 'utf8')
              .split(' ')
              .slice(0, 2)
              .join(' ')}\n`,
        )
        .join(''),
    );
    const inventoryPath = join(n.stateDir, 'inventory.yaml');
    writeFileSync(inventoryPath, inventoryYaml(n, hosts, identityPath, knownHostsPath, state.relay.user, 'plumb'));
    const ansibleInventoryPath = join(n.stateDir, 'ansible-inventory.yaml');
    writeFileSync(ansibleInventoryPath, inventoryYaml(n, hosts, identityPath, knownHostsPath, state.relay.user, 'ansible'));
    log(`fleet "${name}": ${count} host(s) up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const fleet: Fleet = {
      name,
      inventoryPath,
      ansibleInventoryPath,
      knownHostsPath,
      identityPath,
      hosts: hosts.map((h) => ({ name: h.name, address: h.address })),
      relay: {
        host: n.relayIp,
        port: 587,
        user: state.relay.user,
        password,
        caCertPath,
        mechanisms,
        messages: relay?.messages ?? [],
        messagesPath,
        waitForMessage: (p, ms) => (relay ? relay.waitForMessage(p, ms) : Promise.reject(new Error('the relay runs detached; read messagesPath'))),
      },
      ...hostOps(n, state),
      async stop() {
        // Hosts first: that ends postfix's cached connections the relay would wait for.
        stopSync();
        await relay?.close().catch(() => {});
      },
    };
    return fleet;
  } catch (e) {
    await relay?.close().catch(() => {});
    stopSync();
    throw e;
  }
}

function inventoryYaml(n: FleetNames, hosts: HostSpec[], identityPath: string, knownHostsPath: string, relayUser: string, flavour: 'plumb' | 'ansible'): string {
  const connection = (h: HostSpec) =>
    flavour === 'plumb'
      ? { host: h.address, port: 22, user: 'root', identity_file: identityPath }
      : { ansible_host: h.address, ansible_port: 22, ansible_user: 'root', ansible_ssh_private_key_file: identityPath };
  const vars: Record<string, unknown> = { relay_host: n.relayIp, relay_port: 587, relay_account: relayUser, relay_tls_ca_path: '/etc/ssl/certs' };
  if (flavour === 'ansible') {
    vars.ansible_python_interpreter = '/usr/bin/python3';
    vars.ansible_ssh_common_args = `-o UserKnownHostsFile=${knownHostsPath} -o StrictHostKeyChecking=yes`;
  }
  const doc = { all: { children: { mailers: { hosts: Object.fromEntries(hosts.map((h) => [h.name, connection(h)])), vars } } } };
  return `# Generated by the plumb test fleet "${n.name}"; removed by \`npm run fleet -- down\`.\n` + YAML.stringify(doc, { lineWidth: 0 });
}

async function startDetachedRelay(cfg: RelayConfig, relayDir: string, messagesPath: string): Promise<number> {
  const configPath = join(relayDir, 'relay.json');
  writeFileSync(configPath, JSON.stringify(cfg), { mode: 0o600 });
  const logFd = openSync(join(relayDir, 'relay.log'), 'a');
  const main = fileURLToPath(new URL('./relay-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, configPath, messagesPath], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  child.unref();
  if (!child.pid) throw new Error('cannot start the relay process');
  await waitForPort(cfg.host, cfg.port, 15_000, 'the relay').catch((e) => {
    throw new Error(`${e.message}; see ${join(relayDir, 'relay.log')}`);
  });
  return child.pid;
}

/** Host operations that work from the process that started the fleet and from a later CLI. */
function hostOps(n: FleetNames, state: FleetState) {
  const find = (host: string) => {
    const h = state.hosts.find((x) => x.name === host || x.address === host);
    if (!h) throw new Error(`no host "${host}" in fleet "${n.name}" (hosts: ${state.hosts.map((x) => x.name).join(', ')})`);
    return h;
  };
  const save = () => writeState(n, state);
  const procs = (h: HostSpec) => {
    const p = state.procs[h.name];
    if (!p || !pidAlive(p.init)) throw new Error(`host ${h.name} of fleet "${n.name}" is not running`);
    return p;
  };
  const exec = async (host: string, cmd: string, input?: string) => {
    const h = find(host);
    return execInHost(n, h, procs(h).init, cmd, input);
  };
  return {
    exec,
    async sh(host: string, cmd: string, input?: string) {
      const r = await exec(host, cmd, input);
      if (r.code !== 0) throw new Error(`${host}: ${cmd} exited ${r.code}: ${r.stderr}`);
      return r.stdout.trim();
    },
    async reset(host: string) {
      const h = find(host);
      state.procs[h.name] = await resetHost(n, h, state.material);
      save();
      await waitForPort(h.address, 22, 30_000, `sshd of ${h.name}`);
    },
    async stopSshd(host: string) {
      const h = find(host);
      const p = procs(h);
      // Only the listener; sessions it forked keep running like on a real host.
      if (p.sshd && hostPids(hostPaths(n, h).netns).includes(p.sshd)) stopSshd(p.sshd);
      delete p.sshd;
      save();
    },
    async startSshd(host: string) {
      const h = find(host);
      const p = procs(h);
      if (pidAlive(p.sshd)) return;
      p.sshd = startSshd(n, h, p.init);
      save();
      await waitForPort(h.address, 22, 30_000, `sshd of ${h.name}`);
    },
  };
}

/** Operations on a fleet that another process (the CLI's `up`) started. */
export function attachFleet(nameArg?: string) {
  const name = fleetName(nameArg);
  const state = readState(name);
  if (!state || !state.material) throw new Error(`fleet "${name}" is not up (no state under ${STATE_ROOT}/${name})`);
  const n = names(name, state.k);
  return { names: n, state, ...hostOps(n, state) };
}
