/**
 * One contender in the known_hosts race (known-hosts-race.test.ts), run as
 * its own process: it loads known_hosts (finding the keys unknown), says it is
 * ready, waits for the start signal, then records the keys, either directly
 * or by connecting to a real sshd with --accept-new-host-keys.
 *
 *   node --import tsx known-hosts-racer.ts '<json Job>'
 */
import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { openTransport } from '../../src/transport/index.js';

interface Job {
  mode: 'add' | 'connect';
  file: string;
  ready: string;
  go: string;
  /** add: the hosts and keys (base64 blobs) to record. */
  entries?: Array<{ host: string; port: number; key: string }>;
  /** connect: the sshd and the identity to log in with. */
  port?: number;
  identity?: string;
}

const job = JSON.parse(process.argv[2]) as Job;
const pause = new Int32Array(new SharedArrayBuffer(4));
const waitForGo = () => {
  writeFileSync(job.ready, '');
  while (!existsSync(job.go)) Atomics.wait(pause, 0, 0, 1);
};

if (job.mode === 'add') {
  const kh = new KnownHosts([job.file]);
  for (const e of job.entries!) if (kh.verify(e.host, e.port, Buffer.from(e.key, 'base64')).status !== 'unknown') throw new Error('key already known before the race');
  waitForGo();
  for (const e of job.entries!) kh.add(e.host, e.port, Buffer.from(e.key, 'base64'), job.file);
} else {
  waitForGo();
  const t = await openTransport(
    { name: 'target', groups: ['all'], vars: {}, connection: { host: '127.0.0.1', port: job.port, user: userInfo().username, identity_file: job.identity } },
    { knownHostsFiles: [job.file], acceptNewHostKeys: true, agentSocket: false, sshConfigFile: '/dev/null', connectRetries: 0 },
  );
  const r = await t.exec('echo ok');
  await t.close();
  if (r.stdout !== 'ok\n') throw new Error(`unexpected output ${JSON.stringify(r.stdout)}`);
}
