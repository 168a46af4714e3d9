/**
 * What one offline guess against a saved plan costs. A real plan is saved
 * (`plumb plan --out`, on this machine through `connection: local`) for a copy
 * task whose content holds a password; then guesses are tested as an attacker
 * would, knowing the format, the salt and the playbook: scrypt of the guess
 * with the plan's salt and parameters, HMAC of the rendered arguments, compare.
 * For contrast, the same guess against the version-1 key (sha256 of the secret).
 * Also prints what scrypt costs at the floor and below it, which is where
 * SCRYPT_FLOOR_N_TIMES_R in src/engine/fingerprint.ts comes from.
 *
 *   npx tsx bench/plan-guess.ts
 */
import { spawnSync } from 'node:child_process';
import { createHash, createHmac, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { canonicalJson, SCRYPT_FLOOR_N_TIMES_R } from '../src/engine/fingerprint.js';
import { copyArgs } from '../src/modules/copy.js';

const SECRET = 'correct-horse-battery-42';
const dir = mkdtempSync(join(tmpdir(), 'plumb-bench-guess-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(x < 1 ? 4 : 0)} ms`;

function plumb(args: string[], env: NodeJS.ProcessEnv): { ms: number; code: number | null; stderr: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/plumb.js', ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', PLUMB_FROM_SOURCE: '1', ...env } });
  return { ms: performance.now() - t, code: r.status, stderr: r.stderr };
}

try {
  const dest = join(dir, 'sasl_passwd');
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, stringify({ all: { hosts: { here: { connection: 'local' } } } }));
  const playbook = (withSecret: boolean) => {
    const path = join(dir, withSecret ? 'secret.yaml' : 'plain.yaml');
    const content = withSecret ? 'acct:{{ pw }}\n' : 'acct:public\n';
    writeFileSync(
      path,
      stringify([
        { name: 'bench', hosts: 'all', ...(withSecret ? { secrets: { pw: '{{ env.BENCH_PW }}' } } : {}), tasks: [{ name: 'credentials', copy: { dest, content, mode: '0600' } }] },
      ]),
    );
    return path;
  };
  const env = { BENCH_PW: SECRET, PLUMB_STATE_DIR: join(dir, 'state') };

  // `plan --out` itself: with a secret it pays one derivation; without, none.
  const planFile = join(dir, 'plan.json');
  const withSecret: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < 3; i++) {
    const a = plumb(['plan', playbook(true), '-i', inventory, '--out', planFile], env);
    if (a.code !== 2) throw new Error(`plan failed (${a.code}): ${a.stderr}`);
    withSecret.push(a.ms);
    without.push(plumb(['plan', playbook(false), '-i', inventory, '--out', join(dir, 'plain.json')], env).ms);
  }

  const plan = JSON.parse(readFileSync(planFile, 'utf8'));
  const { N, r, p, salt } = plan.fingerprint_key as { N: number; r: number; p: number; salt: string };
  const target: string = plan.hosts[0].tasks[0].desired;
  const saltBytes = Buffer.from(salt, 'base64');
  const rendered = (guess: string) => canonicalJson(copyArgs.parse({ dest, content: `acct:${guess}\n`, mode: '0600' }));
  const hmac = (key: Buffer, data: string) => 'hmac-sha256:' + createHmac('sha256', key).update(data).digest('hex').slice(0, 32);
  const guess = (g: string) => {
    const key = scryptSync(`plumb-fingerprint-v2\0${JSON.stringify([g])}`, saltBytes, 32, { N, r, p, maxmem: 256 * N * r * p });
    return hmac(key, rendered(g)) === target;
  };

  const guesses = ['password1', 'letmein-2024', 'correct-horse-battery-41', 'hunter2-hunter2', SECRET];
  const times: number[] = [];
  const hits: string[] = [];
  for (const g of guesses) {
    const t = performance.now();
    if (guess(g)) hits.push(g);
    times.push(performance.now() - t);
  }
  if (hits.length !== 1 || hits[0] !== SECRET) throw new Error(`expected exactly the right guess to match, got ${JSON.stringify(hits)}`);

  // The version-1 scheme: the key was sha256 of the secret, so a guess cost two hashes.
  const oldKey = (g: string) => createHash('sha256').update(['plumb-fingerprint-v1', g].join('\0')).digest();
  const oldTarget = hmac(oldKey(SECRET), rendered(SECRET));
  const n = 20_000;
  let t = performance.now();
  let found = 0;
  for (let i = 0; i < n; i++) if (hmac(oldKey(`guess-${i}`), rendered(`guess-${i}`)) === oldTarget) found++;
  const oldPerGuess = (performance.now() - t) / n;

  const scryptAt = (logN: number, rr: number) => {
    const xs: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      scryptSync('guess', saltBytes, 32, { N: 2 ** logN, r: rr, p: 1, maxmem: 256 * 2 ** logN * rr });
      xs.push(performance.now() - t);
    }
    return Math.min(...xs);
  };

  console.log(`plan: scrypt N=2^${Math.log2(N)} r=${r} p=${p} (${(128 * N * r) / 2 ** 20} MiB), salt ${saltBytes.length} bytes`);
  console.log(
    `one guess against the saved plan (scrypt + HMAC): median ${ms(median(times))}, min ${ms(Math.min(...times))} over ${guesses.length} guesses; only the right one matched`,
  );
  console.log(`one guess against a version-1 plan (sha256 key + HMAC): ${ms(oldPerGuess)} (${found} false matches in ${n})`);
  console.log(`plan --out of one task: ${ms(median(withSecret))} with a secret, ${ms(median(without))} without (median of 3, includes Node start-up)`);
  console.log(`scrypt alone (min of 3): N·r=2^18 ${ms(scryptAt(15, 8))}, floor N·r=2^${Math.log2(SCRYPT_FLOOR_N_TIMES_R)} ${ms(scryptAt(16, 8))}, 2^20 ${ms(scryptAt(17, 8))}`);
  console.log(
    `load average: ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
