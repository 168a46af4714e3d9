/**
 * The corpus of bad playbooks and inventories: each case must fail validation
 * (exit 1) with exactly the positioned messages in its .expected file, and
 * nothing else. A playbook case is validated against the good inventory, an
 * inventory case with the minimal good playbook; `<case>.args` adds options.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';

const dir = 'test/fixtures/bad';
const cases = readdirSync(dir)
  .map((f) => /^(.*)\.(playbook|inventory)\.yaml$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map(([file, name, kind]) => ({ file: `${dir}/${file}`, name, kind }));

async function validate(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(['validate', ...args], {
    stdout: (t) => (stdout += t + '\n'),
    stderr: (t) => (stderr += t + '\n'),
    env: { PATH: process.env.PATH },
  });
  return { code, stdout, stderr };
}

describe('bad fixtures', () => {
  it('has at least 30 cases, each with an expected message', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const c of cases) expect(existsSync(`${dir}/${c.name}.expected`), c.name).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c]))('%s fails with its positioned messages', async (_name, c) => {
    const args = c.kind === 'playbook' ? [c.file, '-i', 'test/fixtures/good/inventory.yaml'] : ['test/fixtures/good/minimal.yaml', '-i', c.file];
    const extra = `${dir}/${c.name}.args`;
    if (existsSync(extra)) args.push(...readFileSync(extra, 'utf8').trim().split('\n'));
    const { code, stdout, stderr } = await validate(args);
    const expected = readFileSync(`${dir}/${c.name}.expected`, 'utf8').trim().split('\n');
    const found = stderr.split('\n').filter((l) => /^\S+:\d+:\d+: (error|warning): /.test(l));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(found).toEqual(expected);
    // Every message names the file, line and column, and nothing leaks a stack trace.
    expect(stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(stderr).toMatch(/validation failed: \d+ errors? in \d+ files?/);
  });
});

describe('good fixtures', () => {
  it.each([
    ['playbooks/postfix-gmail-relay.yaml', 'inventory.example.yaml'],
    ['test/fixtures/good/site.yaml', 'test/fixtures/good/inventory.yaml'],
    ['test/fixtures/good/minimal.yaml', 'test/fixtures/good/inventory.yaml'],
  ])('%s validates against %s', async (playbook, inventory) => {
    const { code, stdout, stderr } = await validate([playbook, '-i', inventory]);
    expect(stderr).not.toMatch(/error:/);
    expect(code).toBe(0);
    expect(stdout).toContain(`${playbook}: valid`);
  });

  it('the seed playbook validates with GMAIL_APP_PASSWORD unset, with a warning naming it', async () => {
    const { code, stdout, stderr } = await validate(['playbooks/postfix-gmail-relay.yaml', '-i', 'inventory.example.yaml']);
    expect(code).toBe(0);
    expect(stderr).toContain('warning: secret "gmail_app_password": environment variable GMAIL_APP_PASSWORD is not set');
    expect(stdout).toMatch(/1 play, 4 tasks, 2 handlers, 2 hosts/);
  });
});
