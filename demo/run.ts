/**
 * `npm run demo`: brings up throwaway Debian hosts on this machine and runs
 * the seed job the way a user would: plan → apply → apply again → drift → plan
 * → apply → mail relayed. Needs root (namespaces, overlayfs). `--keep` leaves
 * the hosts up (then `npm run fleet -- down`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { startFleet, type RelayMessage } from '../test/fleet/fleet.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const hosts = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3);

function step(title: string) {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

if (process.getuid?.() !== 0) {
  console.error('npm run demo needs root: the demo hosts are network namespaces with overlayfs roots.');
  process.exit(1);
}

step(`bringing up ${hosts} Debian hosts (the first run builds the image: a few minutes)`);
// --keep: the hosts and the relay outlive this process (the relay then logs to messagesPath).
const fleet = await startFleet({ hosts, detach: keep });
const env = { ...process.env, GMAIL_APP_PASSWORD: fleet.relay.password };
const common = ['-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath];
const playbook = 'playbooks/postfix-gmail-relay.yaml';

function plumb(...args: string[]): number {
  const shown = ['plumb', ...args, ...common].join(' ');
  process.stdout.write(`$ ${shown}\n`);
  const r = spawnSync(process.execPath, [join(root, 'bin/plumb.js'), ...args, ...common], { cwd: root, env, stdio: 'inherit' });
  process.stdout.write(`(exit ${r.status})\n`);
  return r.status ?? 1;
}

/** A detached relay appends one JSON message per line to its log. */
async function waitInLog(path: string, text: string, timeoutMs: number): Promise<RelayMessage> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
    const found = lines.map((l) => JSON.parse(l) as RelayMessage).find((m) => m.raw.includes(text));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no message containing "${text}" reached the relay within ${timeoutMs / 1000} s`);
}

let failed = false;
const expectCode = (what: string, got: number, want: number) => {
  if (got !== want) {
    failed = true;
    process.stdout.write(`\x1b[31m${what}: expected exit ${want}, got ${got}\x1b[0m\n`);
  }
};

try {
  step('plan on fresh hosts: every change, nothing touched (exit 2 = changes pending)');
  expectCode('plan', plumb('plan', playbook), 2);
  step('apply: converge every host');
  expectCode('apply', plumb('apply', playbook), 0);
  step('apply again: nothing to do (changed=0 everywhere)');
  expectCode('apply again', plumb('apply', playbook), 0);
  step('drift: delete libplain.so on one host, set inet_protocols=all on another');
  const [h1, h2] = fleet.hosts;
  await fleet.exec(h1.name, 'rm -f /usr/lib/x86_64-linux-gnu/sasl2/libplain.so');
  await fleet.exec((h2 ?? h1).name, 'postconf -e inet_protocols=all');
  expectCode('plan after drift', plumb('plan', playbook), 2);
  step('apply repairs exactly the drift');
  expectCode('apply after drift', plumb('apply', playbook), 0);
  expectCode('plan after repair', plumb('plan', playbook), 0);
  step('send a mail through a converged host: the stand-in relay receives it after STARTTLS + AUTH PLAIN');
  await fleet.exec(h1.name, `printf 'Subject: plumb demo\\n\\nhello from ${h1.name}\\n' | /usr/sbin/sendmail -f root@${h1.name} demo@example.com`);
  const msg = keep ? await waitInLog(fleet.relay.messagesPath, 'plumb demo', 60_000) : await fleet.relay.waitForMessage((m) => m.raw.includes('plumb demo'), 60_000);
  process.stdout.write(`relay received a message from ${h1.name}: auth ${msg.mech} as ${msg.user}\n`);
} catch (e) {
  failed = true;
  console.error((e as Error).message);
} finally {
  if (keep) {
    process.stdout.write(`\nhosts left running: inventory ${fleet.inventoryPath}; stop them with: npm run fleet -- down\n`);
  } else {
    await fleet.stop();
  }
}
process.exit(failed ? 1 : 0);
