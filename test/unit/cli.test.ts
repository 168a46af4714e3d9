/**
 * The command line. Most cases run the CLI in-process (test/in-process.ts);
 * the first and the last go through `node bin/plumb.js` in a child process, as a user runs it,
 * for what only the real binary shows: its entry point and its process exit code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBinary, runCli } from '../in-process.js';

const binary = (args: string[], env: NodeJS.ProcessEnv = { PLUMB_FROM_SOURCE: '1' }) => runBinary(args, env);

const plumb = (args: string[]) => runCli(args, { PATH: process.env.PATH, HOME: process.env.HOME });

describe('plumb command line', () => {
  it('--version and --help work through bin/plumb.js (dist when built, else sources)', () => {
    const v = binary(['--version'], {});
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const h = binary(['--help'], {});
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: plumb COMMAND/);
  });

  it('lists every command', async () => {
    const h = await plumb(['--help']);
    for (const c of ['plan', 'apply', 'validate', 'inventory', 'schema']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const r = await plumb(['plna', 'x.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command "plna" \(did you mean "plan"\?\)/);
  });

  it('plan and apply refuse a bad playbook before contacting anything', async () => {
    for (const c of ['plan', 'apply']) {
      const r = await plumb([c, 'test/fixtures/bad/notify-unknown-handler.playbook.yaml', '-i', 'inventory.example.yaml']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/validation failed/);
    }
  });

  it.each(['plan', 'apply', 'validate', 'inventory', 'schema'])('plumb %s --help shows usage and examples', async (c) => {
    const r = await plumb([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: plumb ${c}`));
    expect(r.stdout).toMatch(/Examples:\n {2}plumb /);
  });

  it('validates the seed playbook: exit 0 and a short summary', async () => {
    const r = await plumb(['validate', 'playbooks/postfix-gmail-relay.yaml', '-i', 'inventory.example.yaml']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/postfix-gmail-relay\.yaml: valid — 1 play, 4 tasks, 2 handlers, 2 hosts/);
    expect(r.stdout).toMatch(/hosts "mailers" → 2 hosts \(mx1\.example\.com, mx2\.example\.com\)/);
  });

  it('a bad playbook exits 1 with positioned errors and no stack trace', async () => {
    const r = await plumb(['validate', 'test/fixtures/bad/many-errors.playbook.yaml', '-i', 'test/fixtures/good/inventory.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('test/fixtures/bad/many-errors.playbook.yaml:5:65: error: plays[0].tasks[1].copy.mode: mode must be a quoted octal string');
    expect(r.stderr).toMatch(/\n 5 \| {5}- copy: .*mode: 600 }\n {3}\| {65}\^\^\^\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('usage errors suggest the fix', async () => {
    const r = await plumb(['validate', 'playbooks/postfix-gmail-relay.yaml', '--inventroy', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown option --inventroy \(did you mean --inventory\?\)/);
    const m = await plumb(['validate', 'playbooks/postfix-gmail-relay.yaml']);
    expect(m.stderr).toMatch(/missing -i INVENTORY/);
    const s = await plumb(['schema', 'plays']);
    expect(s.stderr).toMatch(/unknown schema "plays"/);
  });

  it('a missing file is one clear positioned line', async () => {
    const r = await plumb(['validate', 'nope.yaml', '-i', 'inventory.example.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nope\.yaml:1:1: error: cannot read playbook: no such file/m);
  });

  it('plumb inventory --limit prints the matching hosts and their variables', async () => {
    const r = await plumb(['inventory', '-i', 'test/fixtures/good/inventory.yaml', '--limit', 'prod:!db']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 hosts matching "prod:!db"/);
    expect(r.stdout).toMatch(/^ {2}web2 {2}deploy@10\.233\.0\.12:2222 via bastion {2}groups: all, prod, web$/m);
    expect(r.stdout).not.toMatch(/db1/);
    const bad = await plumb(['inventory', '-i', 'test/fixtures/good/inventory.yaml', '--limit', 'wbe1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"wbe1" is neither a host nor a group .*did you mean "web1"/);
  });

  it('the real binary exits 1 on a bad playbook, with positioned errors on stderr', () => {
    const r = binary(['validate', 'test/fixtures/bad/notify-unknown-handler.playbook.yaml', '-i', 'inventory.example.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/notify-unknown-handler\.playbook\.yaml:\d+:\d+: error: .*\n[\s\S]*validation failed: 1 error in 1 file/);
  });

  it('plumb schema prints JSON Schema', async () => {
    const r = await plumb(['schema', 'inventory']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('a 10 MB playbook is refused quickly with a clear message, without a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-big-'));
    const file = join(dir, 'big.yaml');
    const task = '    - name: task number xxxxxxxx\n      command: echo hello world this is a long line\n';
    writeFileSync(file, '- hosts: all\n  tasks:\n' + task.repeat(Math.ceil((10 * 1024 * 1024) / task.length)));
    const r = await plumb(['validate', file, '-i', 'inventory.example.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/big\.yaml:1:1: error: playbook is 10\.0 MiB; plumb reads YAML files up to 512 KiB/);
    // The under-a-second figure is measured in bench/validate.ts; this bound only catches a hang.
    expect(r.ms).toBeLessThan(20_000);
  });
});
