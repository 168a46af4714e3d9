/**
 * Every name and address a fleet uses, derived from the fleet's name, so that
 * several fleets coexist on one machine and teardown matches only its own
 * resources (names carry the fleet name; the name has no '-', so
 * `<name>-...` cannot match another fleet's resources).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from './lock.js';

export const STATE_ROOT = process.env.PLUMB_FLEET_STATE ?? '/run/plumb-fleet';
export const DEFAULT_FLEET = 'plumb';
/** Hosts take 10.233.K.11 and up, one /24 per fleet. */
export const MAX_HOSTS = 240;

const NAME = /^[a-z][a-z0-9]{0,9}$/;

export function fleetName(name?: string): string {
  const n = name ?? process.env.PLUMB_FLEET_NAME ?? DEFAULT_FLEET;
  if (!NAME.test(n)) throw new Error(`fleet name ${JSON.stringify(n)} is invalid: use 1-10 lowercase letters and digits, starting with a letter`);
  return n;
}

export interface FleetNames {
  name: string;
  /** Third octet of the fleet's subnet 10.233.K.0/24. */
  k: number;
  bridge: string;
  relayIp: string;
  stateDir: string;
  /** A private tmpfs holding every host's overlay upper dir and mount point. */
  mntDir: string;
  sshDir: string;
  statePath: string;
}

export function names(name: string, k: number): FleetNames {
  const stateDir = join(STATE_ROOT, name);
  return {
    name,
    k,
    bridge: name === DEFAULT_FLEET ? 'plumb0' : `${name}-br`,
    relayIp: `10.233.${k}.1`,
    stateDir,
    mntDir: join(stateDir, 'mnt'),
    sshDir: join(stateDir, 'ssh'),
    statePath: join(stateDir, 'state.json'),
  };
}

export const hostName = (i: number) => `mail${i}`;
export const hostAddress = (k: number, i: number) => `10.233.${k}.${10 + i}`;
export const netnsName = (fleet: string, host: string) => `${fleet}-${host}`;
export const vethName = (fleet: string, i: number) => `${fleet}-h${i}`;
export const netnsPattern = (fleet: string) => new RegExp(`^${fleet}-mail\\d+$`);
export const vethPattern = (fleet: string) => new RegExp(`^${fleet}-h\\d+$`);

/**
 * The fleet's subnet number: 0 for the default fleet, otherwise the lowest free
 * number 1..254 recorded in a registry, so a name keeps its subnet across runs.
 */
export async function subnetFor(name: string): Promise<number> {
  if (name === DEFAULT_FLEET) return 0;
  const registry = join(STATE_ROOT, 'subnets.json');
  const existing = () => (existsSync(registry) ? (JSON.parse(readFileSync(registry, 'utf8')) as Record<string, number>) : {});
  const known = existing()[name];
  if (known !== undefined) return known;
  mkdirSync(STATE_ROOT, { recursive: true });
  return withLock(join(STATE_ROOT, 'subnets.lock'), 'subnet registry', async () => {
    const map = existing();
    if (map[name] !== undefined) return map[name];
    const used = new Set(Object.values(map));
    let k = 1;
    while (used.has(k)) k++;
    if (k > 254) throw new Error('no free fleet subnet left in 10.233.0.0/16 (registry ' + registry + ')');
    map[name] = k;
    writeFileSync(registry + '.tmp', JSON.stringify(map, null, 2) + '\n');
    renameSync(registry + '.tmp', registry);
    return k;
  });
}

/** The subnet already assigned to a name, without assigning one (for `down` and `status`). */
export function knownSubnet(name: string): number | undefined {
  if (name === DEFAULT_FLEET) return 0;
  const registry = join(STATE_ROOT, 'subnets.json');
  if (!existsSync(registry)) return undefined;
  return (JSON.parse(readFileSync(registry, 'utf8')) as Record<string, number>)[name];
}
