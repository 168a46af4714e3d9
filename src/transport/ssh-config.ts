/**
 * Where and how to connect to one host: inventory connection keys merged over
 * ~/.ssh/config (parsed by the `ssh-config` package). Inventory keys win, as
 * command-line options win over the config file in OpenSSH.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import type { Connection } from '../inventory/model.js';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { parseSshTime } from '../timeouts.js';

export interface Endpoint {
  /** The name the user wrote (inventory name or jump entry), for messages. */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** ssh -J syntax chain, or undefined for a direct connection. */
  proxyJump?: string;
  connectTimeoutMs?: number;
}

export function defaultSshConfigFile(): string | undefined {
  const file = join(homedir(), '.ssh', 'config');
  return existsSync(file) ? file : undefined;
}

const parsedConfigs = new Map<string, SSHConfig>();

function loadSshConfig(file: string | undefined): SSHConfig | undefined {
  if (!file) return undefined;
  let config = parsedConfigs.get(file);
  if (!config) {
    const text = readLimited(file, { limit: READ_LIMITS.sshConfig, what: 'ssh config' }).toString('utf8');
    config = SSHConfig.parse(text);
    parsedConfigs.set(file, config);
  }
  return config;
}

let loginName: string | undefined;
function localUser(): string {
  // userInfo() reads the passwd database: once per run, not once per host.
  return process.env.USER || (loginName ??= userInfo().username);
}

/** The subset of ssh_config(5) TOKENS that make sense for IdentityFile. */
function expandPath(path: string, ctx: { hostname: string; user: string; port: number; alias: string }): string {
  let p = path.replace(/%(.)/g, (whole, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'd':
        return homedir();
      case 'h':
        return ctx.hostname;
      case 'n':
        return ctx.alias;
      case 'p':
        return String(ctx.port);
      case 'r':
        return ctx.user;
      case 'u':
        return localUser();
      default:
        return whole;
    }
  });
  if (p === '~') p = homedir();
  else if (p.startsWith('~/')) p = join(homedir(), p.slice(2));
  return p;
}

function parsePort(value: unknown, where: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid port ${JSON.stringify(value)} in ${where}`);
  return n;
}

/** 0 leaves plumb's default, as it leaves the system's in OpenSSH. */
function connectTimeout(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseSshTime(value);
  if (typeof ms === 'string') throw new Error(`ConnectTimeout in ${where}: ${ms}`);
  return ms === 0 ? undefined : ms;
}

/** OpenSSH's default identities, only those present. */
function defaultIdentityFiles(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).filter((f) => existsSync(f));
}

/**
 * Resolve one destination. `lookup` is the name matched against `Host`
 * patterns (the inventory's `host:` if set, else the inventory name).
 */
export function resolveEndpoint(alias: string, connection: Connection, configFile: string | undefined): Endpoint {
  const lookup = connection.host ?? alias;
  const config = loadSshConfig(configFile);
  const computed: Record<string, string | string[]> = config ? (config.compute(lookup, { ignoreCase: true, matchExec: false }) as Record<string, string | string[]>) : {};
  const one = (key: string): string | undefined => {
    const v = computed[key];
    return Array.isArray(v) ? v[0] : v;
  };
  const hostname = one('hostname') ? one('hostname')!.replace(/%h/g, lookup) : lookup;
  const port = connection.port ?? (one('port') ? parsePort(one('port'), configFile ?? 'ssh config') : 22);
  const user = connection.user ?? one('user') ?? localUser();
  const ctx = { hostname, user, port, alias };
  const configIdentities = computed['identityfile'];
  const fromConfig = (Array.isArray(configIdentities) ? configIdentities : configIdentities ? [configIdentities] : []).map((f) => expandPath(f, ctx));
  const identityFiles = [...(connection.identity_file ? [expandPath(connection.identity_file, ctx)] : []), ...fromConfig];
  if (identityFiles.length === 0) identityFiles.push(...defaultIdentityFiles());
  let proxyJump = connection.jump ?? one('proxyjump');
  if (proxyJump === 'none' || proxyJump === '') proxyJump = undefined;
  const connectTimeoutMs = connectTimeout(one('connecttimeout'), configFile ?? 'ssh config');
  return { alias, hostname, port, user, identityFiles: [...new Set(identityFiles)], proxyJump, connectTimeoutMs };
}

/**
 * Split a ProxyJump / `jump:` value into hops. Each hop is an inventory host
 * name (when `hostsByName` has it) or `[user@]host[:port]`, itself resolved
 * through ssh config like OpenSSH does for -J hops.
 */
export function parseJumpSpec(spec: string): Array<{ user?: string; host: string; port?: number; raw: string }> {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((raw) => {
      let rest = raw.replace(/^ssh:\/\//, '');
      let user: string | undefined;
      const at = rest.lastIndexOf('@');
      if (at >= 0) {
        user = rest.slice(0, at);
        rest = rest.slice(at + 1);
      }
      let port: number | undefined;
      const bracket = /^\[(.+)\]:(\d+)$/.exec(rest);
      if (bracket) {
        rest = bracket[1];
        port = parsePort(bracket[2], `jump host ${raw}`);
      } else {
        const m = /^([^:]+):(\d+)$/.exec(rest);
        if (m) {
          rest = m[1];
          port = parsePort(m[2], `jump host ${raw}`);
        }
      }
      if (rest === '') throw new Error(`invalid jump host ${JSON.stringify(raw)}`);
      return { user, host: rest, port, raw };
    });
}
