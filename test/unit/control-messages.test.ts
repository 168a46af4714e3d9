/**
 * Issue 15, the message channel of the control modules, through the real CLI on `connection:
 * local`: what debug and assert print reaches the plan (text, markdown, json) and apply's output,
 * and `register:`; a vaulted variable (made by the real ansible-vault) and everything computed
 * from it (upper, b64encode, concatenated, registered and read again) prints as ***; host text is
 * escaped; a debug of a result known only after apply says so in the plan.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, type CliRun } from '../in-process.js';
import { leaks } from '../secret-forms.js';
import { encryptStrings, runVaultOracle, vaultDir, type Password } from '../vault-oracle.js';

const password: Password = { label: 'default', password: 'control vault password', fileText: 'control vault password\n' };
const secret = 'smtp-Relay-pässword-42';
/** What the playbook computes from it: secret too. */
const derived = [secret.toUpperCase(), Buffer.from(secret).toString('base64'), `user:${secret}`];

let dir: string;
const env = () => ({ PATH: process.env.PATH, HOME: dir, PLUMB_STATE_DIR: join(dir, 'state') });
const cli = (args: string[]) => runCli(args, env());
const shown = (r: CliRun) => r.stdout + r.stderr;
const indent = (text: string, n: number) => text.replace(/^(?=.)/gm, ' '.repeat(n));

if (!runVaultOracle) console.warn('control message tests skipped: ansible-vault (ansible-core) is not installed');

describe.skipIf(!runVaultOracle)('debug and assert messages, connection: local', { timeout: 120_000 }, () => {
  beforeAll(() => {
    dir = vaultDir([password]);
    writeFileSync(join(dir, 'inventory.yaml'), 'all:\n  hosts:\n    here:\n      connection: local\n');
    const inline = encryptStrings(dir, password, { relay_password: secret });
    const tasks = [
      { name: 'plain', debug: { msg: 'relay is {{ relay_host }}' } },
      { name: 'raw secret', debug: { var: 'relay_password' } },
      { name: 'upper', debug: { msg: '{{ relay_password | upper }}' } },
      { name: 'b64', debug: { msg: '{{ relay_password | b64encode }}' } },
      { name: 'joined', debug: { msg: 'user:{{ relay_password }}' } },
      { name: 'var of derived', debug: { var: 'relay_password | b64encode' } },
      { name: 'check', assert: { that: ['relay_password | length > 8', "relay_host == 'mx.example.org'"], success_msg: 'relay settings look right' } },
      // Host output, escaped where it is printed: an ESC and a forged line.
      { name: 'read', command: "printf 'a\\033[2Jb\\nFAKE: line'", register: 'out', changed_when: false },
      { name: 'host text', debug: { var: 'out.stdout' } },
      // Registered from a secret, then transformed again: still secret.
      { name: 'keep', debug: { msg: 'user:{{ relay_password }}' }, register: 'said' },
      { name: 'again', debug: { msg: '{{ said.msg | upper }}' } },
      // Known only once apply ran it.
      { name: 'changes', command: 'echo made', register: 'made' },
      { name: 'after apply', debug: { var: 'made.stdout' } },
      { name: 'written', copy: { dest: join(dir, 'written'), content: '{{ said.msg | b64encode }}\n' } },
    ];
    const play = stringify([{ name: 'control', hosts: 'all', tasks }]).replace(/^ {2}tasks:/m, `  vars:\n    relay_host: mx.example.org\n${indent(inline, 4)}  tasks:`);
    writeFileSync(join(dir, 'site.yaml'), play);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const site = () => join(dir, 'site.yaml');
  const common = () => ['-i', join(dir, 'inventory.yaml'), '--vault-password-file', join(dir, 'default.pass')];
  const everySecret = [secret, ...derived, Buffer.from(derived[2]).toString('base64')];

  it('plan text: messages on their own lines, secrets and what is computed from them as ***, host text escaped', async () => {
    const plan = await cli(['plan', site(), ...common()]);
    expect(plan.code, shown(plan)).toBe(2);
    expect(plan.stdout).toContain('> plain: relay is mx.example.org');
    expect(plan.stdout).toContain('> raw secret: relay_password: ***');
    expect(plan.stdout).toContain('> upper: ***');
    expect(plan.stdout).toContain('> b64: ***');
    expect(plan.stdout).toContain('> joined: ***');
    expect(plan.stdout).toContain('> var of derived: relay_password | b64encode: ***');
    expect(plan.stdout).toContain('> check: relay settings look right');
    expect(plan.stdout).toContain('> again: ***');
    expect(plan.stdout).toContain('> host text: out.stdout: a\\x1b[2Jb\\nFAKE: line');
    expect(plan.stdout).not.toMatch(/^FAKE/m);
    expect(plan.stdout).toMatch(/> after apply: known after apply \(depends on "changes"\)/);
    expect(leaks(shown(plan), everySecret)).toEqual([]);
  });

  it('plan json and markdown carry the messages, redacted and escaped', async () => {
    const json = await cli(['plan', site(), ...common(), '--format', 'json']);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout) as { hosts: Array<{ tasks: Array<{ name: string; message?: string }> }> };
    const messages = Object.fromEntries(doc.hosts[0].tasks.map((t) => [t.name, t.message]));
    expect(messages.plain).toBe('relay is mx.example.org');
    expect(messages.upper).toBe('***');
    expect(messages['host text']).toBe('out.stdout: a\u001b[2Jb\nFAKE: line');
    expect(json.stdout).not.toContain('\u001b');
    const md = await cli(['plan', site(), ...common(), '--format', 'markdown']);
    expect(md.stdout).toContain('- **plain**: relay is mx.example.org');
    expect(md.stdout).toContain('- **joined**: ***');
    for (const r of [json, md]) expect(leaks(shown(r), everySecret)).toEqual([]);
  });

  it('apply prints the messages (the registered one now known), registers them, and leaks nothing', async () => {
    const apply = await cli(['apply', site(), ...common()]);
    expect(apply.code, shown(apply)).toBe(0);
    // The per-task lines (plain progress) are on stderr.
    expect(apply.stderr).toMatch(/here: ok plain: relay is mx\.example\.org/);
    expect(apply.stderr).toMatch(/here: ok upper: \*\*\*$/m);
    expect(apply.stderr).toMatch(/here: ok check: relay settings look right/);
    expect(apply.stderr).toMatch(/here: ok after apply: made\.stdout: made/);
    expect(leaks(shown(apply), everySecret)).toEqual([]);
    // What debug registered is the secret's own value, used as such by a later task.
    expect(readFileSync(join(dir, 'written'), 'utf8')).toBe(`${Buffer.from(derived[2]).toString('base64')}\n`);
  });
});

describe('assert and fail in the plan and at apply, connection: local', { timeout: 60_000 }, () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'plumb-control-'));
    writeFileSync(join(work, 'inventory.yaml'), 'all:\n  hosts:\n    here:\n      connection: local\n');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const run = (tasks: unknown[], mode: 'plan' | 'apply') => {
    writeFileSync(join(work, 'site.yaml'), stringify([{ hosts: 'all', vars: { port: 25 }, tasks }]));
    return runCli([mode, join(work, 'site.yaml'), '-i', join(work, 'inventory.yaml')], { PATH: process.env.PATH, HOME: work, PLUMB_STATE_DIR: join(work, 'state') });
  };

  it('a false assert fails the host in the plan and at apply, and what follows does not run', async () => {
    const tasks = [
      { name: 'port', assert: { that: ['port == 587'], fail_msg: 'port {{ port }} is not the submission port' } },
      { name: 'after', copy: { dest: join(work, 'after'), content: 'x\n' } },
    ];
    const plan = await run(tasks, 'plan');
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('! port — cannot apply: port 25 is not the submission port');
    const apply = await run(tasks, 'apply');
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('FAILED port: port 25 is not the submission port');
    expect(() => readFileSync(join(work, 'after'))).toThrow();
  });

  it('fail under a false when is skipped; under a true one it fails', async () => {
    const skipped = await run([{ name: 'stop', fail: { msg: 'no' }, when: 'port == 587' }], 'apply');
    expect(skipped.code).toBe(0);
    const failed = await run([{ name: 'stop', fail: { msg: 'no port {{ port }}' }, when: 'port == 25' }], 'plan');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('! stop — cannot apply: no port 25');
  });

  it('a pause is no change in the plan (exit 0) and sleeps at apply', async () => {
    const tasks = [{ name: 'breathe', pause: { seconds: 1 } }];
    const plan = await run(tasks, 'plan');
    expect(plan.code, shown(plan)).toBe(0);
    expect(plan.stdout).toContain('= breathe');
    expect(plan.stdout).toContain('will pause 1 second');
    expect(plan.ms).toBeLessThan(1000);
    const apply = await run(tasks, 'apply');
    expect(apply.code).toBe(0);
    expect(apply.ms).toBeGreaterThanOrEqual(1000);
    expect(apply.stdout).toMatch(/here\s+ok\s+1\s+0\s/);
  });
});
