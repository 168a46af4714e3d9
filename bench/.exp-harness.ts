// scratch (not committed): transport-only CPU per host, A/B across variants
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeKey, startSshd } from '../test/transport/sshd.js';

if (!process.argv.includes('--child')) {
  const self = fileURLToPath(import.meta.url);
  const c = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, '--import', 'tsx', self, '--child', ...process.argv.slice(2)], { stdio: 'inherit' });
  c.on('close', (code) => process.exit(code ?? 1));
} else {
  const N = Number(process.env.N ?? 500);
  const FORKS = 250;
  const dir = mkdtempSync(join(tmpdir(), 'fh-exp-'));
  chmodSync(dir, 0o755);
  const user = 'fh_exp_' + process.pid; execFileSync('useradd', ['-m', '-s', '/bin/sh', user]); execFileSync('usermod', ['-p', '*', user]);
  const sshds = [];
  for (let i = 0; i < 4; i++) sshds.push(await startSshd({ listen: ['0.0.0.0'], maxStartups: '1000:30:2000', extraConfig: 'MaxSessions 20' }));
  const key = makeKey(dir, 'id');
  chmodSync(key.path, 0o600);
  for (const s of sshds) s.authorize(user, [key.pub]);
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, sshds.map((s) => `[127.0.*.*]:${s.port} ${s.hostKeyPub}\n`).join(''));
  const { openTransport } = await import('../src/transport/index.js');
  const pLimit = (await import('p-limit')).default;
  try {
    const variants = JSON.parse(process.env.VARIANTS ?? '[{}]');
    const totals = variants.map(() => ({ cpu: 0, n: 0 }));
    for (let round = 1; round <= Number(process.env.ROUNDS ?? 3); round++) for (let vi = 0; vi < variants.length; vi++) {
      (globalThis as any).__exp = variants[vi];
      const options = { knownHostsFiles: [kh], sshConfigFile: '/dev/null', agentSocket: false as const, connectTimeoutMs: 30000 };
      const limit = pLimit(FORKS);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let ok = 0;
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          limit(async () => {
            const t = await openTransport({ name: `h${i}`, groups: ['all'], vars: {}, connection: { host: `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: sshds[i % 4].port, user, identity_file: key.path } as never }, options);
            const r = await t.exec(process.env.CMD ?? 'echo ok', { timeoutMs: 60000 });
            if (r.stdout.trim() === 'ok') ok++;
            await t.close();
          }),
        ),
      );
      const c = process.cpuUsage(c0);
      if (round > 1) { totals[vi].cpu += c.user + c.system; totals[vi].n += N; }
      console.log(`variant ${JSON.stringify(variants[vi])} round ${round}: ${N} hosts ${ok} ok, wall ${((performance.now() - t0) / 1000).toFixed(1)} s, CPU ${((c.user + c.system) / 1000 / N).toFixed(2)} ms/host (user ${(c.user / 1000 / N).toFixed(2)}, sys ${(c.system / 1000 / N).toFixed(2)})`);
    }
    for (let vi = 0; vi < variants.length; vi++) console.log(`TOTAL ${JSON.stringify(variants[vi])}: ${(totals[vi].cpu / 1000 / totals[vi].n).toFixed(3)} ms/host over ${totals[vi].n} hosts (round 1 excluded)`);
  } finally {
    for (const s of sshds) await s.stop();
    execFileSync('userdel', ['-r', '-f', user], { stdio: 'ignore' });
  }
}
