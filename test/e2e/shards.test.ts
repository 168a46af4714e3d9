/**
 * A CI matrix on real Debian hosts: 4 `plumb plan --shard I/4 --out` processes
 * at once, `plumb merge` of their plans compared with a single-process plan,
 * then `plumb apply --shard I/4 merged.json` per shard and one merged recap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { shardOf } from '../../src/engine/shard.js';
import { EXIT } from '../../src/errors.js';
import { startPlumb, type PlumbRun } from './plumb.js';
import { writeIn } from '../write-file.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('shards e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

const N = 4;
const TOKEN = 'fleet-shard-token-Q7';

describe.skipIf(!runE2E)('a 4-job matrix on the fleet', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  const outputs: PlumbRun[] = [];
  const timings: Record<string, number> = {};

  /** One plumb process, as a CI job runs it. */
  const job = async (args: string[]) => {
    const contacts = args[0] === 'plan' || args[0] === 'apply';
    const r = await startPlumb(contacts ? [...args, '--known-hosts', fleet.knownHostsPath] : args, { SHARD_TOKEN: TOKEN }).done;
    outputs.push(r);
    return r;
  };
  const timed = async <T>(name: string, work: () => Promise<T>) => {
    const t0 = performance.now();
    const out = await work();
    timings[name] = Math.round(performance.now() - t0);
    return out;
  };
  const pb = () => join(dir, 'site.yaml');
  const inv = () => ['-i', fleet.inventoryPath];
  const path = (name: string) => join(dir, name);
  const normalise = (text: string) =>
    text
      .replace(/"created_at": "[^"]+"/g, '"created_at": "T"')
      .replace(/\n\s*"fingerprint_key": \{[^}]*\},?/g, '')
      .replace(/("name": "token",[\s\S]*?"probed": )"[^"]+",(\s*"desired": )"[^"]+"/g, '$1"P",$2"D"');

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 8 });
    dir = mkdtempSync(join(tmpdir(), 'plumb-shards-e2e-'));
    writeIn(dir, 'site.yaml', [
      {
        name: 'drift check',
        hosts: 'mailers',
        secrets: { token: '{{ env.SHARD_TOKEN }}' },
        tasks: [
          { name: 'config dir', file: { path: '/etc/plumb-shard', state: 'directory', mode: '0755' } },
          { name: 'motd', copy: { dest: '/etc/plumb-shard/motd', content: 'managed by plumb\n' }, notify: 'note reload' },
          { name: 'token', copy: { dest: '/etc/plumb-shard/token', content: '{{ token }}\n', mode: '0600' } },
        ],
        handlers: [{ name: 'note reload', command: 'touch /etc/plumb-shard/reloaded' }],
      },
      { name: 'rolling', hosts: 'mailers', serial: 2, tasks: [{ name: 'host file', copy: { dest: '/etc/plumb-shard/host', content: '{{ inventory_hostname }}\n' } }] },
    ]);
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('4 shard plans merge into the single-process plan, byte for byte apart from time and salts', async () => {
    const shards = Array.from({ length: N }, (_, i) => i + 1);
    const plans = await timed('4 shard plans (parallel processes)', () =>
      Promise.all(shards.map((i) => job(['plan', pb(), ...inv(), '--shard', `${i}/${N}`, '--out', path(`plan-${i}.json`)]))),
    );
    for (const r of plans) expect(r.code, r.stderr).toBe(EXIT.changes);
    const single = await timed('single-process plan', () => job(['plan', pb(), ...inv(), '--format', 'markdown', '--out', path('single.json')]));
    expect(single.code, single.stderr).toBe(EXIT.changes);

    const merged = await timed('merge', () => job(['merge', ...shards.map((i) => path(`plan-${i}.json`)), '--format', 'markdown', '--out', path('merged.json')]));
    expect(merged.code, merged.stderr).toBe(EXIT.changes);
    // The review document is the single plan's, grouping and all.
    expect(merged.stdout).toBe(single.stdout);
    expect(merged.stdout).toMatch(/^#### mail1, mail2, mail3, mail4, mail5, mail6, mail7, mail8 \(8 hosts\)$/m);
    const m = readFileSync(path('merged.json'), 'utf8');
    const s = readFileSync(path('single.json'), 'utf8');
    expect(normalise(m)).toBe(normalise(s));
    const hosts = JSON.parse(m).hosts as Array<{ name: string; fingerprint_key?: unknown }>;
    // Every host of shards 2..4 keeps its own shard's key; shard 1's are the document's.
    for (const h of hosts) expect(Boolean(h.fingerprint_key), h.name).toBe(shardOf(h.name, N) !== 1);
    expect(m).not.toContain(TOKEN);
  });

  it('applies the merged plan per shard, converges every host, and the merged recap exits 0', async () => {
    const shards = Array.from({ length: N }, (_, i) => i + 1);
    const applies = await timed('4 shard applies (parallel processes)', () =>
      Promise.all(shards.map((i) => job(['apply', '--shard', `${i}/${N}`, path('merged.json'), '--format', 'json']))),
    );
    applies.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(EXIT.ok);
      writeFileSync(path(`recap-${i + 1}.json`), r.stdout);
    });
    const recap = await job(['merge', ...shards.map((i) => path(`recap-${i}.json`)), '--format', 'json']);
    expect(recap.code, recap.stderr).toBe(EXIT.ok);
    const doc = JSON.parse(recap.stdout);
    expect(doc.exit_code).toBe(EXIT.ok);
    expect(doc.summary).toMatchObject({ hosts: 8, changed: 8, failed: 0, refused: 0, unreachable: 0 });
    expect(recap.stdout).not.toContain(TOKEN);
    for (const h of fleet.hosts) {
      expect(await fleet.sh(h.name, 'cat /etc/plumb-shard/host')).toBe(h.name);
      expect(await fleet.sh(h.name, 'stat -c %a /etc/plumb-shard/token && test -e /etc/plumb-shard/reloaded && echo reloaded')).toBe('600\nreloaded');
    }
    const again = await job(['plan', pb(), ...inv()]);
    expect(again.code, again.stdout).toBe(EXIT.ok);
  });

  it('one unreachable host makes its shard and the merged recap exit 4', async () => {
    const down = fleet.hosts[0].name;
    const plans = await Promise.all(Array.from({ length: N }, (_, i) => job(['plan', pb(), ...inv(), '--shard', `${i + 1}/${N}`, '--out', path(`drift-${i + 1}.json`)])));
    plans.forEach((r) => expect(r.code, r.stderr).toBe(EXIT.ok));
    expect((await job(['merge', ...plans.map((_, i) => path(`drift-${i + 1}.json`)), '--out', path('drift.json')])).code).toBe(EXIT.ok);
    await fleet.stopSshd(down);
    try {
      const applies = await Promise.all(
        Array.from({ length: N }, (_, i) => job(['apply', '--shard', `${i + 1}/${N}`, path('drift.json'), '--out', path(`drift-recap-${i + 1}.json`), '--connect-timeout', '3'])),
      );
      applies.forEach((r, i) => expect(r.code, r.stderr).toBe(i + 1 === shardOf(down, N) ? EXIT.unreachable : EXIT.ok));
      const recap = await job(['merge', ...applies.map((_, i) => path(`drift-recap-${i + 1}.json`))]);
      expect(recap.code, recap.stdout).toBe(EXIT.unreachable);
      expect(recap.stdout).toMatch(new RegExp(`^${down}\\s+unreachable`, 'm'));
    } finally {
      await fleet.startSshd(down);
    }
  });

  afterAll(() => {
    console.log(`shards e2e timings (ms): ${JSON.stringify(timings)}`);
  });
});
