/**
 * --shard I/N and plumb merge: the split itself (deterministic, balanced,
 * stable when hosts or shards are added), then real runs on the control
 * machine (connection: local, each "host" writing its own files) planned in
 * shards, merged, compared with a single-process plan, applied per shard,
 * and the merges that must be refused.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactHostsPattern, inShard, parseShard, shardOf } from '../../src/engine/shard.js';
import { mergePlans } from '../../src/engine/shard-plans.js';
import { mergeRecaps, mostSevereExit } from '../../src/report/recap-document.js';
import { EXIT } from '../../src/errors.js';
import { plumb } from '../e2e/plumb.js';
import { writeIn } from '../write-file.js';

const names = Array.from({ length: 1000 }, (_, i) => `host-${String(i).padStart(4, '0')}.example.net`);

describe('the shard split', () => {
  it('is deterministic, and pinned: plans made by one plumb are applied by another', () => {
    const once = names.map((n) => shardOf(n, 4));
    expect(names.map((n) => shardOf(n, 4))).toEqual(once);
    // Changing these changes every saved shard plan's hosts: only with a new label (plumb-shard-v2).
    // Worked out apart from plumb, with Python's hashlib: max over i of the first 8 bytes of sha256("plumb-shard-v1\0" i "\0" name).
    expect(['web1', 'web2', 'db1', 'mail3'].map((n) => shardOf(n, 4))).toEqual([1, 3, 1, 3]);
  });

  it('puts every host in exactly one shard', () => {
    for (const n of [1, 2, 3, 4, 7]) {
      for (const name of names.slice(0, 200)) {
        const owners = Array.from({ length: n }, (_, i) => i + 1).filter((index) => inShard(name, { index, count: n }));
        expect(owners, `${name} of ${n}`).toHaveLength(1);
      }
    }
  });

  it('is balanced within reason for 1,000 names (each shard within 25% of its share)', () => {
    for (const n of [2, 4, 8]) {
      const sizes = Array.from({ length: n }, () => 0);
      for (const name of names) sizes[shardOf(name, n) - 1]++;
      const share = names.length / n;
      for (const size of sizes) expect(Math.abs(size - share), `${n} shards: ${sizes.join(', ')}`).toBeLessThan(share * 0.25);
    }
  });

  it('moves only the new host when a host is added, and only hosts for the new shard when a shard is added', () => {
    const before = new Map(names.map((n) => [n, shardOf(n, 4)]));
    const added = [...names, 'new-host'];
    for (const n of added.slice(0, -1)) expect(shardOf(n, 4)).toBe(before.get(n));
    const moved = names.filter((n) => shardOf(n, 5) !== before.get(n));
    for (const n of moved) expect(shardOf(n, 5)).toBe(5);
    // About a fifth move (to the new shard); "hash mod n" would move about four fifths.
    expect(moved.length).toBeGreaterThan(130);
    expect(moved.length).toBeLessThan(270);
  });

  it('parses I/N and says what is wrong', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('0/4')).toMatch(/I must be 1\.\.4/);
    expect(parseShard('5/4')).toMatch(/I must be 1\.\.4/);
    expect(parseShard('1/0')).toMatch(/N must be/);
    expect(parseShard('2 of 4')).toMatch(/must be I\/N/);
  });

  it('names hosts exactly, matching nothing for an empty shard, and refuses a name a pattern would misread', () => {
    expect(exactHostsPattern(['a', 'b'])).toBe('a:b');
    expect(exactHostsPattern([])).toBe('!all');
    expect(() => exactHostsPattern(['fe80::1'])).toThrow(/cannot be selected by name/);
  });

  it('merges exit codes as one run decides them: interrupted, error, unreachable, ok', () => {
    expect(mostSevereExit([0, 4, 0])).toBe(EXIT.unreachable);
    expect(mostSevereExit([4, 1, 0])).toBe(EXIT.error);
    expect(mostSevereExit([1, 130])).toBe(EXIT.interrupted);
    expect(mostSevereExit([0, 0])).toBe(EXIT.ok);
    expect(mostSevereExit([0, 3])).toBe(EXIT.error);
  });
});

describe('shard plans on the control machine', { timeout: 120_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const web = Array.from({ length: 8 }, (_, i) => `web${i + 1}`);
  const db = ['db1', 'db2', 'db3', 'db4'];
  const N = 4;
  const shardPlans: string[] = [];
  let single: string;
  let merged: string;

  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => plumb(args, { ...env, ...extra });
  const pb = () => join(dir, 'site.yaml');
  const inv = () => ['-i', join(dir, 'inventory.yaml')];
  const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
  /** What may differ between two plans of the same state: when, the random salts, and the fingerprints keyed by them (the secret task's). */
  const normalise = (text: string) =>
    text
      .replace(/"created_at": "[^"]+"/g, '"created_at": "T"')
      .replace(/\n\s*"fingerprint_key": \{[^}]*\},?/g, '')
      .replace(/"salt": "[^"]+"/g, '"salt": "S"')
      .replace(/("name": "token",[\s\S]*?"probed": )"[^"]+",(\s*"desired": )"[^"]+"/g, '$1"P",$2"D"');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-shards-'));
    env = { PLUMB_STATE_DIR: join(dir, 'state'), SHARD_TOKEN: 's3cret-shard-token' };
    mkdirSync(join(dir, 'out'));
    const local = { connection: 'local' };
    writeIn(dir, 'inventory.yaml', {
      all: {
        vars: { out: join(dir, 'out') },
        children: { web: { hosts: Object.fromEntries(web.map((h) => [h, local])) }, db: { hosts: Object.fromEntries(db.map((h) => [h, local])) } },
      },
    });
    writeIn(dir, 'site.yaml', [
      {
        name: 'files',
        hosts: 'all',
        secrets: { token: '{{ env.SHARD_TOKEN }}' },
        tasks: [
          // Each "host" has its own directory: they share this machine's filesystem.
          { name: 'out dir', file: { path: '{{ out }}/{{ inventory_hostname }}', state: 'directory' } },
          { name: 'note', copy: { dest: '{{ out }}/{{ inventory_hostname }}/note.txt', content: 'hello {{ inventory_hostname }}\n' } },
          { name: 'token', copy: { dest: '{{ out }}/{{ inventory_hostname }}/token', content: '{{ token }}\n', mode: '0600' } },
        ],
      },
      { name: 'rolling', hosts: 'web', serial: 2, tasks: [{ name: 'mark', copy: { dest: '{{ out }}/{{ inventory_hostname }}/web', content: 'web\n' } }] },
    ]);
    for (let i = 1; i <= N; i++) {
      const out = join(dir, `plan-${i}.json`);
      const r = await run(['plan', pb(), ...inv(), '--shard', `${i}/${N}`, '--out', out]);
      expect([EXIT.ok, EXIT.changes], r.stderr).toContain(r.code);
      shardPlans.push(out);
    }
    single = join(dir, 'single.json');
    const s = await run(['plan', pb(), ...inv(), '--out', single]);
    expect(s.code, s.stderr).toBe(EXIT.changes);
    merged = join(dir, 'merged.json');
    expect((await run(['merge', ...shardPlans, '--out', merged])).code).toBe(EXIT.changes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each shard plans only its own hosts and records every host of the run', () => {
    const seen: string[] = [];
    shardPlans.forEach((path, i) => {
      const doc = read(path);
      expect(doc.shard).toMatchObject({ index: i + 1, count: N, hosts: [...web, ...db], keyed: true });
      for (const h of doc.hosts) expect(shardOf(h.name, N)).toBe(i + 1);
      seen.push(...new Set<string>(doc.hosts.map((h: { name: string }) => h.name)));
    });
    expect(seen.sort()).toEqual([...web, ...db].sort());
  });

  it('merges into the single-process plan, byte for byte apart from time, salts and the secret task’s fingerprints', async () => {
    const r = await run(['merge', ...[...shardPlans].reverse(), '--out', merged, '--format', 'markdown']);
    expect(r.code, r.stderr).toBe(EXIT.changes);
    const m = readFileSync(merged, 'utf8');
    expect(normalise(m)).toBe(normalise(readFileSync(single, 'utf8')));
    // The note task uses no secret: its fingerprints are equal without normalising.
    const notes = (text: string) => text.match(/"name": "note",[\s\S]*?"desired": "[^"]+"/g);
    expect(notes(m)).toEqual(notes(readFileSync(single, 'utf8')));
    // Hosts of shards 2..N keep their shard's key; the merged markdown is the single plan's exactly.
    expect(read(merged).hosts.some((h: { fingerprint_key?: unknown }) => h.fingerprint_key)).toBe(true);
    const md = await run(['plan', pb(), ...inv(), '--format', 'markdown']);
    expect(r.stdout).toBe(md.stdout);
    expect(r.stdout).toMatch(/^#### web1 \(1 host\)$/m);
  });

  it('is the identity for one shard of one', async () => {
    const one = join(dir, 'one.json');
    expect((await run(['plan', pb(), ...inv(), '--shard', '1/1', '--out', one])).code).toBe(EXIT.changes);
    const r = await run(['merge', one, '--format', 'json']);
    expect(r.code, r.stderr).toBe(EXIT.changes);
    expect(normalise(r.stdout)).toBe(normalise(readFileSync(single, 'utf8')));
  });

  it('refuses plans that are not the shards of one run, naming what differs', async () => {
    const plans = shardPlans.map((p) => ({ path: p, doc: read(p) }));
    expect(() => mergePlans(plans.slice(0, 3))).toThrow(/shard 4\/4 missing: hosts .* are in no plan/);
    expect(() => mergePlans([...plans, plans[1]])).toThrow(/shard 2\/4 is given twice/);
    expect(() => mergePlans([{ path: single, doc: read(single) }])).toThrow(/not the plan of a shard/);
    const other = join(dir, 'other-e.json');
    await run(['plan', pb(), ...inv(), '--shard', '2/4', '-e', 'greeting=hi', '--out', other]);
    expect(() => mergePlans([plans[0], { path: other, doc: read(other) }, plans[2], plans[3]])).toThrow(/plans of different runs: the command differs \(-e\)/);
    const three = join(dir, 'three.json');
    await run(['plan', pb(), ...inv(), '--shard', '1/3', '--out', three]);
    expect(() => mergePlans([{ path: three, doc: read(three) }, ...plans.slice(1)])).toThrow(/of 3 shards|of 4 shards/);
    const limited = join(dir, 'limited.json');
    await run(['plan', pb(), ...inv(), '--shard', '2/4', '--limit', 'web', '--out', limited]);
    expect(() => mergePlans([plans[0], { path: limited, doc: read(limited) }, plans[2], plans[3]])).toThrow(/the command differs \(--limit\)/);
  });

  it('refuses overlapping shards and hosts left out', () => {
    const plans = shardPlans.map((p) => ({ path: p, doc: read(p) }));
    const donor = plans.findIndex((p) => p.doc.hosts.length > 0);
    const taker = (donor + 1) % N;
    const overlap = structuredClone(plans);
    overlap[taker].doc.hosts.push(overlap[donor].doc.hosts[0]);
    expect(() => mergePlans(overlap)).toThrow(/belongs to another shard/);
    const leftOut = structuredClone(plans);
    const gone = leftOut[donor].doc.hosts.filter((h: { name: string }) => h.name === plans[donor].doc.hosts[0].name);
    leftOut[donor].doc.hosts = leftOut[donor].doc.hosts.filter((h: { name: string }) => !gone.includes(h));
    expect(() => mergePlans(leftOut)).toThrow(new RegExp(`hosts ${plans[donor].doc.hosts[0].name} are in no shard's plan`));
    const otherHosts = structuredClone(plans);
    otherHosts[1].doc.shard.hosts = otherHosts[1].doc.shard.hosts.slice(1);
    expect(() => mergePlans(otherHosts)).toThrow(/different host lists/);
  });

  it('refuses shard plans made from a different inventory', async () => {
    const path = join(dir, 'inventory.yaml');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text + '# edited\n');
    const edited = join(dir, 'edited.json');
    try {
      await run(['plan', pb(), ...inv(), '--shard', '3/4', '--out', edited]);
    } finally {
      writeFileSync(path, text);
    }
    const plans = shardPlans.map((p) => ({ path: p, doc: read(p) }));
    expect(() => mergePlans([plans[0], plans[1], { path: edited, doc: read(edited) }, plans[3]])).toThrow(/inventory\.yaml has different content/);
  });

  it('applies the merged plan shard by shard, refusing a stale host, and merges the recaps into one exit code', async () => {
    // web2 moves after the review: its shard refuses it, the others converge.
    const out = join(dir, 'out');
    const stale = 'web2';
    const recaps: string[] = [];
    for (let i = 1; i <= N; i++) {
      if (i === shardOf(stale, N)) {
        mkdirSync(join(out, stale));
        writeFileSync(join(out, stale, 'note.txt'), 'moved\n');
      }
      const recap = join(dir, `recap-${i}.json`);
      const r = await run(['apply', '--shard', `${i}/${N}`, merged, '--format', 'json']);
      writeFileSync(recap, r.stdout);
      recaps.push(recap);
      const doc = read(recap);
      expect(doc.shard).toEqual({ index: i, count: N });
      expect(r.code, r.stderr).toBe(i === shardOf(stale, N) ? EXIT.error : EXIT.ok);
      for (const h of doc.hosts) expect(shardOf(h.name, N)).toBe(i);
    }
    expect(readFileSync(join(out, stale, 'note.txt'), 'utf8')).toBe('moved\n');
    for (const h of [...web, ...db].filter((x) => x !== stale)) {
      expect(readFileSync(join(out, h, 'note.txt'), 'utf8')).toBe(`hello ${h}\n`);
      expect(readFileSync(join(out, h, 'token'), 'utf8')).toBe('s3cret-shard-token\n');
    }
    const m = await run(['merge', ...recaps, '--format', 'json']);
    expect(m.code, m.stderr).toBe(EXIT.error);
    const recap = JSON.parse(m.stdout);
    expect(recap.exit_code).toBe(EXIT.error);
    expect(recap.summary).toMatchObject({ hosts: 12, refused: 1 });
    expect(recap.hosts.find((h: { name: string }) => h.name === stale).status).toBe('refused');
    expect(JSON.stringify(recap)).not.toContain('s3cret');
    expect(() => mergeRecaps(recaps.slice(1).map((p) => ({ path: p, doc: read(p) })))).toThrow(/recap of shard 1\/4 missing/);
    // The rest converged: a fresh plan of every host but the stale one changes nothing.
    const again = await run(['plan', pb(), ...inv(), '--limit', `all:!${stale}`]);
    expect(again.code, again.stdout).toBe(EXIT.ok);
  });

  it('a shard with no hosts is a clean no-op, for plan and apply', async () => {
    const count = 40;
    const empty = Array.from({ length: count }, (_, i) => i + 1).find((i) => [...web, ...db].every((h) => shardOf(h, count) !== i))!;
    const out = join(dir, 'empty.json');
    const p = await run(['plan', pb(), ...inv(), '--shard', `${empty}/${count}`, '--out', out]);
    expect(p.code, p.stderr).toBe(EXIT.ok);
    expect(p.stderr).toContain(`shard ${empty}/${count} has no hosts: nothing to plan`);
    expect(p.stderr).not.toMatch(/matches no host/);
    expect(read(out).hosts).toEqual([]);
    const a = await run(['apply', '--shard', `${empty}/${count}`, merged, '--format', 'json']);
    expect(a.code, a.stderr).toBe(EXIT.ok);
    expect(JSON.parse(a.stdout).hosts).toEqual([]);
  });

  it('applies --limit before sharding and refuses a shard plan applied as another shard', async () => {
    const out = join(dir, 'web-only.json');
    await run(['plan', pb(), ...inv(), '--limit', 'web', '--shard', '1/2', '--out', out]);
    const doc = read(out);
    expect(doc.shard.hosts).toEqual(web);
    expect([...new Set(doc.hosts.map((h: { name: string }) => h.name))]).toEqual(web.filter((h) => shardOf(h, 2) === 1));
    const r = await run(['apply', '--shard', '2/2', out]);
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toMatch(/is the plan of shard 1\/2: apply it with --shard 1\/2 or without --shard/);
  });
});
