/** The one entry point the engine uses to reach a host. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { InventoryHost } from '../inventory/model.js';
import { KnownHosts } from './known-hosts.js';
import { checkTimeoutMs } from '../timeouts.js';
import { LocalTransport } from './local.js';
import type { Endpoint } from './ssh-config.js';
import type { LoadedKey } from './ssh.js';
import { UnreachableError, type Transport } from './types.js';

export type { Transport } from './types.js';

export interface TransportOptions {
  knownHostsFiles?: string[]; // default [~/.ssh/known_hosts]
  acceptNewHostKeys?: boolean;
  sshConfigFile?: string; // default ~/.ssh/config if it exists
  /** Wins over ConnectTimeout in ssh config; leave undefined unless the user gave --connect-timeout. */
  connectTimeoutMs?: number; // default 10000
  commandTimeoutMs?: number; // default per-command timeout when exec gives none (0 = none)
  maxChannels?: number; // default 8
  becomePassword?: (host: InventoryHost) => Promise<string | undefined>;
  passphrase?: (keyPath: string) => Promise<string>; // for encrypted keys, asked once per key
  hostsByName?: Map<string, InventoryHost>; // so `jump: bastion` can name an inventory host
  /** Environment of `connection: local` commands; default this process's. */
  localEnv?: NodeJS.ProcessEnv;
  /** ssh-agent socket; default $SSH_AUTH_SOCK, `false` = do not use an agent. */
  agentSocket?: string | false;
  /** Keepalive interval (default 10000 ms) and missed answers before the host is dropped (default 3). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Connect retries after refused/reset connections (default 3, backoff 0.25 s doubling). */
  connectRetries?: number;
}

/** Per-options caches: one known_hosts view and one decrypted key per path for the whole run. */
interface RunState {
  knownHosts: KnownHosts;
  keys: Map<string, Promise<LoadedKey | undefined>>;
}
const runStates = new WeakMap<TransportOptions, RunState>();

function runState(options: TransportOptions): RunState {
  let state = runStates.get(options);
  if (!state) {
    const files = options.knownHostsFiles?.length ? options.knownHostsFiles : [join(homedir(), '.ssh', 'known_hosts')];
    state = { knownHosts: new KnownHosts(files), keys: new Map() };
    runStates.set(options, state);
  }
  return state;
}

function resolveChain(
  host: InventoryHost,
  options: TransportOptions,
  configFile: string | undefined,
  { parseJumpSpec, resolveEndpoint }: Pick<typeof import('./ssh-config.js'), 'parseJumpSpec' | 'resolveEndpoint'>,
): Endpoint[] {
  const target = resolveEndpoint(host.name, host.connection, configFile);
  const chain: Endpoint[] = [];
  if (target.proxyJump) {
    for (const hop of parseJumpSpec(target.proxyJump)) {
      const inventoryHost = options.hostsByName?.get(hop.raw);
      if (inventoryHost) {
        // A jump host named after an inventory host uses that host's connection keys.
        chain.push(resolveEndpoint(inventoryHost.name, { ...inventoryHost.connection, jump: undefined }, configFile));
      } else {
        // Like `ssh -J`: each hop is itself looked up in ssh config; its own ProxyJump is not followed.
        chain.push(resolveEndpoint(hop.raw, { host: hop.host, port: hop.port, user: hop.user }, configFile));
      }
    }
  }
  chain.push(target);
  return chain;
}

export async function openTransport(host: InventoryHost, options: TransportOptions): Promise<Transport> {
  const becomePassword = () => (options.becomePassword ? options.becomePassword(host) : Promise.resolve(undefined));
  const commandTimeoutMs = options.commandTimeoutMs ?? 0;
  if (host.connection.connection === 'local') return new LocalTransport(host.name, commandTimeoutMs, becomePassword, options.localEnv);

  try {
    // ssh2 and the ssh config parser load with the first ssh host, not with plumb (local-only runs never need them).
    const { defaultSshConfigFile, parseJumpSpec, resolveEndpoint } = await import('./ssh-config.js');
    const { readIdentity, SshTransport } = await import('./ssh.js');
    const configFile = options.sshConfigFile ?? defaultSshConfigFile();
    const chain = resolveChain(host, options, configFile, { parseJumpSpec, resolveEndpoint });
    const state = runState(options);
    const target = chain[chain.length - 1];
    const connectTimeoutMs = options.connectTimeoutMs ?? target.connectTimeoutMs ?? 10_000;
    checkTimeoutMs(connectTimeoutMs, 'the connect timeout');
    const agent = options.agentSocket === false ? undefined : (options.agentSocket ?? process.env.SSH_AUTH_SOCK) || undefined;
    return await SshTransport.open(host.name, {
      chain,
      maxChannels: options.maxChannels ?? 8,
      defaultTimeoutMs: commandTimeoutMs,
      retries: options.connectRetries ?? 3,
      becomePassword,
      hop: {
        knownHosts: state.knownHosts,
        recordNewKeysIn: options.acceptNewHostKeys ? state.knownHosts.files[0] : undefined,
        connectTimeoutMs,
        keepaliveIntervalMs: options.keepaliveIntervalMs ?? 10_000,
        keepaliveCountMax: options.keepaliveCountMax ?? 3,
        agentSocket: agent,
        loadKey: (path) => {
          let key = state.keys.get(path);
          if (!key) {
            key = readIdentity(path, options.passphrase);
            state.keys.set(path, key);
          }
          return key;
        },
      },
    });
  } catch (err) {
    if (err instanceof UnreachableError) throw err;
    // Config and identity-file problems also make the host unusable: same one-line shape.
    const message = err instanceof Error ? err.message : String(err);
    throw new UnreachableError(message, host.name);
  }
}
