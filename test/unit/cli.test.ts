/** The installed command: `node bin/plumb.js ...` in a child process, as a user runs it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function plumb(args: string[], env: NodeJS.ProcessEnv = { PLUMB_FROM_SOURCE: '1' }) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['bin/plumb.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

describe('plumb command line', () => {
  it('--version and --help work through bin/plumb.js (dist when built, else sources)', () => {
    const v = plumb(['--version'], {});
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const h = plumb(['--help'], {});
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: plumb COMMAND/);
  });

  it('lists every command', () => {
    const h = plumb(['--help']);
    for (const c of ['plan', 'apply', 'validate', 'inventory', 'schema']) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const r = plumb(['plna', 'x.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command "plna" \(did you mean "plan"\?\)/);
  });

  it('plan and apply refuse a bad playbook before contacting anything', () => {
    for (const c of ['plan', 'apply']) {
      const r = plumb([c, 'test/fixtures/bad/notify-unknown-handler.playbook.yaml', '-i', 'inventory.example.yaml']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/validation failed/);
    }
  });

  it.each(['plan', 'apply', 'validate', 'inventory', 'schema'])('plumb %s --help shows usage and examples', (c) => {
    const r = plumb([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: plumb ${c}`));
    expect(r.stdout).toMatch(/Examples:\n {2}plumb /);
  });

  it('validates the seed playbook: exit 0 and a short summary', () => {
    const r = plumb(['validate', 'playbooks/postfix-gmail-relay.yaml', '-i', 'inventory.example.yaml']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/postfix-gmail-relay\.yaml: valid — 1 play, 4 tasks, 2 handlers, 2 hosts/);
    expect(r.stdout).toMatch(/hosts "mailers" → 2 hosts \(mx1\.example\.com, mx2\.example\.com\)/);
  });

  it('a bad playbook exits 1 with positioned errors and no stack trace', () => {
    const r = plumb(['validate', 'test/fixtures/bad/many-errors.playbook.yaml', '-i', 'test/fixtures/good/inventory.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('test/fixtures/bad/many-errors.playbook.yaml:5:65: error: plays[0].tasks[1].copy.mode: mode must be a quoted octal string');
    expect(r.stderr).toMatch(/\n 5 \| {5}- copy: .*mode: 600 }\n {3}\| {65}\^\^\^\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('usage errors suggest the fix', () => {
    const r = plumb(['validate', 'playbooks/postfix-gmail-relay.yaml', '--inventroy', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown option --inventroy \(did you mean --inventory\?\)/);
    const m = plumb(['validate', 'playbooks/postfix-gmail-relay.yaml']);
    expect(m.stderr).toMatch(/missing -i INVENTORY/);
    const s = plumb(['schema', 'plays']);
    expect(s.stderr).toMatch(/unknown schema "plays"/);
  });

  it('a missing file is one clear positioned line', () => {
    const r = plumb(['validate', 'nope.yaml', '-i', 'inventory.example.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nope\.yaml:1:1: error: cannot read playbook: no such file/m);
  });

  it('plumb inventory --limit prints the matching hosts and their variables', () => {
    const r = plumb(['inventory', '-i', 'test/fixtures/good/inventory.yaml', '--limit', 'prod:!db']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 hosts matching "prod:!db"/);
    expect(r.stdout).toMatch(/^ {2}web2 {2}deploy@10\.233\.0\.12:2222 via bastion {2}groups: all, prod, web$/m);
    expect(r.stdout).not.toMatch(/db1/);
    const bad = plumb(['inventory', '-i', 'test/fixtures/good/inventory.yaml', '--limit', 'wbe1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"wbe1" is neither a host nor a group .*did you mean "web1"/);
  });

  it('plumb schema prints JSON Schema', () => {
    const r = plumb(['schema', 'inventory']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('a 10 MB playbook is refused quickly with a clear message, without a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-big-'));
    const file = join(dir, 'big.yaml');
    const task = '    - name: task number xxxxxxxx\n      command: echo hello world this is a long line\n';
    writeFileSync(file, '- hosts: all\n  tasks:\n' + task.repeat(Math.ceil((10 * 1024 * 1024) / task.length)));
    const r = plumb(['validate', file, '-i', 'inventory.example.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/big\.yaml:1:1: error: playbook is 10\.0 MiB; plumb reads YAML files up to 512 KiB/);
    // The under-a-second figure is measured in bench/validate.ts; this bound only catches a hang.
    expect(r.ms).toBeLessThan(20_000);
  });
});
