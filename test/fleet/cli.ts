/**
 * npm run fleet -- up N | status | reset [HOST] | exec HOST CMD | down      (fleet name: --name X or env PLUMB_FLEET_NAME)
 *
 * `up` leaves the fleet running after the CLI exits; its relay then runs as a
 * detached process recorded by PID (messages appended to a JSON-lines file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { attachFleet, readState, requireRoot, startFleet, teardownFleet } from './fleet.js';
import { fleetName, names } from './naming.js';

const USAGE = 'usage: npm run fleet -- [--name NAME] up N | status | reset [HOST] | exec HOST CMD | down';

function printStatus(name: string) {
  const state = readState(name);
  if (!state || !state.material) {
    console.log(`fleet "${name}" is not up`);
    return false;
  }
  const n = names(name, state.k);
  console.log(`inventory: ${join(n.stateDir, 'inventory.yaml')}`);
  console.log(`known_hosts: ${join(n.sshDir, 'known_hosts')}`);
  console.log(`identity: ${join(n.sshDir, 'id_ed25519')}`);
  for (const h of state.hosts) {
    const launcher = state.procs[h.name]?.sshd;
    let up = false;
    try {
      up = !!launcher && readFileSync(`/proc/${launcher}/cmdline`, 'utf8').includes('sshd');
    } catch {
      /* not running */
    }
    console.log(`${h.name} ${h.address}${up ? '' : ' (sshd not running)'}`);
  }
  console.log(`ansible_inventory: ${join(n.stateDir, 'ansible-inventory.yaml')}`);
  console.log(
    `relay: ${state.relay.host}:${state.relay.port} user ${state.relay.user} password-file ${join(n.stateDir, 'relay/password')} ` +
      `ca ${join(n.stateDir, 'relay/cert.pem')} messages ${join(n.stateDir, 'relay/messages.jsonl')}`,
  );
  return true;
}

async function main(argv: string[]) {
  let name: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--name') name = argv[++i];
    else if (argv[i].startsWith('--name=')) name = argv[i].slice(7);
    else args.push(argv[i]);
  }
  name = fleetName(name);
  const [cmd, arg] = args;
  if (cmd !== 'status') requireRoot();
  const t0 = Date.now();
  const took = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  switch (cmd) {
    case 'up': {
      const count = Number(arg ?? 3);
      if (!Number.isInteger(count)) throw new Error(USAGE);
      await startFleet({ hosts: count, name, detach: true, log: (m) => console.error(m) });
      printStatus(name);
      console.error(`up ${count}: ${took()}`);
      return 0;
    }
    case 'status':
      return printStatus(name) ? 0 : 1;
    case 'reset': {
      const fleet = attachFleet(name);
      const targets = arg ? [arg] : fleet.state.hosts.map((h) => h.name);
      const limit = pLimit(8);
      await Promise.all(targets.map((h) => limit(() => fleet.reset(h))));
      console.error(`reset ${targets.length} host(s): ${took()}`);
      return 0;
    }
    case 'exec': {
      const command = args.slice(2).join(' ');
      if (!arg || !command) throw new Error(USAGE);
      const r = await attachFleet(name).exec(arg, command);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code;
    }
    case 'down': {
      teardownFleet(name);
      console.error(`fleet "${name}" down: ${took()}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`fleet: ${e.message}`);
    process.exit(1);
  },
);
