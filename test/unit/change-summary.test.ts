/**
 * Output at scale: apply ends with what changed, hosts with identical changes grouped
 * (src/report/change-summary.ts), and a log of a many-host play stays bounded
 * (src/report/plain.ts). The last case runs a real apply on 30 local hosts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { HostResult, TaskResult } from '../../src/engine/types.js';
import { changeSummary } from '../../src/report/change-summary.js';
import { PlainReporter } from '../../src/report/plain.js';
import { runCli } from '../in-process.js';

const task = (name: string, status: TaskResult['status'], summaries: string[] = [], extra: Partial<TaskResult> = {}): TaskResult => ({
  name,
  status,
  changes: summaries.map((summary) => ({ summary, target: name })),
  ...extra,
});

function host(name: string, tasks: TaskResult[], extra: Partial<HostResult> = {}): HostResult {
  const changed = tasks.filter((t) => t.status === 'changed').length;
  return { host: name, status: changed ? 'changed' : 'ok', ok: tasks.length - changed, changed, failed: 0, skipped: 0, tasks, seconds: 1, ...extra };
}

describe('the grouped change summary', () => {
  it('puts hosts with identical changes in one group and counts the unchanged ones', () => {
    const relay = [task('packages', 'ok'), task('relay', 'changed', ['set relayhost = [smtp]:587']), task('Restart postfix', 'changed', [], { handler: true })];
    const results = [
      ...Array.from({ length: 12 }, (_, i) => host(`mx${i + 1}`, relay)),
      host('mx13', [task('packages', 'changed', ['install postfix']), task('relay', 'ok')]),
      ...Array.from({ length: 5 }, (_, i) => host(`quiet${i + 1}`, [task('packages', 'ok'), task('relay', 'ok')])),
    ];
    expect(changeSummary(results)).toBe(
      [
        'CHANGES',
        '  mx1, mx2, mx3, … mx12 (12 hosts):',
        '    changed relay: set relayhost = [smtp]:587',
        '    changed handler Restart postfix',
        '  mx13 (1 host):',
        '    changed packages: install postfix',
        '  5 hosts unchanged',
        '',
      ].join('\n'),
    );
  });

  it('groups failures by what failed, separately from hosts that changed the same way', () => {
    const results = [
      host('a', [task('relay', 'changed', ['set x'])]),
      host('b', [task('relay', 'changed', ['set x']), task('reload', 'failed', [], { error: 'exit 1' })], { status: 'failed', failed: 1 }),
      host('c', [], { status: 'unreachable', error: 'connection refused' }),
      host('d', [], { status: 'unreachable', error: 'connection refused' }),
      host('e', [task('probe', 'failed', [], { ignored: true, error: 'no such file' })]),
    ];
    expect(changeSummary(results)).toBe(
      [
        'CHANGES',
        '  a (1 host):',
        '    changed relay: set x',
        '  b (1 host):',
        '    changed relay: set x',
        '    FAILED reload: exit 1',
        '  c, d (2 hosts):',
        '    UNREACHABLE: connection refused',
        '  e (1 host):',
        '    failed (ignored) probe: no such file',
        '',
      ].join('\n'),
    );
  });

  it('says so when nothing changed, and escapes host text', () => {
    expect(changeSummary([host('a', [task('x', 'ok')]), host('b', [])])).toBe('CHANGES\n  none: 2 hosts unchanged\n');
    const out = changeSummary([host('evil\x1b[2Jhost', [task('t', 'changed', ['line1\nline2\x07'])])]);
    expect(out).not.toMatch(/[\x07\x1b]/);
    expect(out.split('\n')).toHaveLength(4);
  });
});

describe('a log of a many-host play', () => {
  it('is bounded: progress by tenths and one line per failure, no per-host success lines', () => {
    const lines: string[] = [];
    const r = new PlainReporter('apply', (l) => lines.push(l));
    const names = Array.from({ length: 2000 }, (_, i) => `h${i + 1}`);
    r.playStart('big', names);
    for (const name of names) {
      const failed = name === 'h7';
      const t = failed ? task('relay', 'failed', [], { error: 'exit 2' }) : task('relay', name === 'h9' ? 'changed' : 'ok', ['set x']);
      r.taskDone(name, t);
      r.hostDone(host(name, [t], failed ? { status: 'failed', failed: 1, error: 'relay failed' } : {}));
    }
    expect(lines[0]).toBe('PLAY big (2000 hosts)');
    expect(lines.filter((l) => /^h7: /.test(l))).toEqual(['h7: FAILED relay: exit 2', 'h7: FAILED: relay failed']);
    const progress = lines.filter((l) => l.startsWith('PLAY big: '));
    expect(progress).toHaveLength(10);
    expect(progress.at(-1)).toBe('PLAY big: 2000/2000 hosts done, 1 changed, 1 not ok');
    expect(lines).toHaveLength(1 + 2 + 10);
  });

  it('stays one line per event for a few hosts, as before', () => {
    const lines: string[] = [];
    const r = new PlainReporter('apply', (l) => lines.push(l));
    r.playStart('small', ['a', 'b']);
    for (const name of ['a', 'b']) {
      r.taskDone(name, task('relay', 'ok'));
      r.hostDone(host(name, [task('relay', 'ok')]));
    }
    expect(lines).toEqual(['PLAY small (2 hosts)', 'a: ok relay', 'a: OK (ok=1 changed=0 1.00 s)', 'b: ok relay', 'b: OK (ok=1 changed=0 1.00 s)']);
  });

  it('apply on 30 local hosts: a bounded log on stderr, the changes grouped after the recap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-many-'));
    const hosts = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`h${i + 1}`, { connection: 'local' }]));
    writeFileSync(join(dir, 'inventory.yaml'), stringify({ all: { hosts } }));
    writeFileSync(
      join(dir, 'site.yaml'),
      stringify([
        {
          name: 'many',
          hosts: 'all',
          gather_facts: false,
          // Every "host" is this machine: all 30 plan the same directory (mkdir -p, so none fails).
          tasks: [{ name: 'shared directory', file: { path: `${dir}/shared`, state: 'directory' } }],
        },
      ]),
    );
    const r = await runCli(['apply', join(dir, 'site.yaml'), '-i', join(dir, 'inventory.yaml')], { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' });
    expect(r.code, r.stderr).toBe(0);
    const log = r.stderr.trim().split('\n');
    expect(log[0]).toBe('PLAY many (30 hosts)');
    expect(log.slice(1).every((l) => /^PLAY many: \d+\/30 hosts done, \d+ changed, 0 not ok$/.test(l))).toBe(true);
    expect(log.length).toBeLessThanOrEqual(11);
    expect(r.stdout.indexOf('CHANGES')).toBeGreaterThan(r.stdout.indexOf('RECAP'));
    expect(r.stdout.slice(r.stdout.indexOf('CHANGES'))).toBe(`CHANGES\n  h1, h2, h3, … h30 (30 hosts):\n    changed shared directory: create directory ${dir}/shared\n`);
  });
});
