/**
 * Secrets never appear in output: the Redactor itself, `plumb inventory`
 * (text and JSON), and validation errors that would otherwise quote a value.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { Redactor } from '../../src/redactor.js';

async function plumb(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t + '\n'), stderr: (t) => (stderr += t + '\n'), env: { PATH: process.env.PATH, ...env } });
  return { code, stdout, stderr, all: stdout + stderr };
}

describe('Redactor', () => {
  it('replaces every occurrence, longest secret first', () => {
    const r = new Redactor();
    r.add('abcd');
    r.add('abcdefg');
    expect(r.redact('x abcdefg y abcd z abcdabcd')).toBe('x *** y *** z ******');
    expect(r.has('..abcd..')).toBe(true);
    expect(r.has('abc')).toBe(false);
    expect(r.size).toBe(2);
  });
  it('refuses empty and short values rather than leave them unredacted (they would shred all output)', () => {
    const r = new Redactor();
    expect(() => r.add('')).toThrow(/shorter than 4 characters/);
    expect(() => r.add('xyz')).toThrow(/shorter than 4 characters/);
    expect(r.size).toBe(0);
    expect(r.redact('xyz')).toBe('xyz');
  });
  it('redacts keys and values deep inside JSON-like data', () => {
    const r = new Redactor();
    r.add('hunter2');
    expect(r.redactDeep({ a: ['pw=hunter2'], hunter2: 1, n: 5 })).toEqual({ a: ['pw=***'], '***': 1, n: 5 });
  });
});

describe('secrets in command output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-redact-'));
  const secret = 'Sup3r-S3cret-Passw0rd';
  const inventory = join(dir, 'inventory.yaml');
  const secrets = join(dir, 'secrets.yaml');
  writeFileSync(inventory, `all:\n  hosts:\n    mx1:\n      host: 10.233.0.5\n      smtp_password: ${secret}\n      note: "uses ${secret} inline"\n`);
  writeFileSync(secrets, `smtp_password: ${secret}\n`);

  it('plumb inventory shows *** instead of a value from --secrets (text and json)', async () => {
    const plain = await plumb(['inventory', '-i', inventory]);
    expect(plain.stdout).toContain(secret); // without --secrets plumb cannot know it is secret
    for (const format of ['text', 'json']) {
      const r = await plumb(['inventory', '-i', inventory, '--secrets', secrets, '--format', format]);
      expect(r.code).toBe(0);
      expect(r.all).not.toContain(secret);
      expect(r.stdout).toContain('***');
    }
  });

  it('load errors do not quote a secret from --secrets', async () => {
    const playbook = join(dir, 'bad-literal.yaml');
    writeFileSync(playbook, `- hosts: all\n  tasks:\n    - service: { name: postfix, state: "${secret}" }\n`);
    const r = await plumb(['validate', playbook, '-i', inventory, '--secrets', secrets]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-literal\.yaml:3:40: error: plays\[0\]\.tasks\[0\]\.service\.state: expected one of .*found the string "\*\*\*"/);
    expect(r.all).not.toContain(secret);
  });

  it('errors found once rendered do not quote a secret from the environment', async () => {
    const playbook = join(dir, 'bad-rendered.yaml');
    writeFileSync(
      playbook,
      ['- hosts: all', '  secrets:', '    env_secret: "{{ env.PLUMB_TEST_ENV_SECRET }}"', '  tasks:', '    - service: { name: postfix, state: "{{ env_secret }}" }', ''].join('\n'),
    );
    const envSecret = 'EnvProvided-Secret-99';
    const r = await plumb(['validate', playbook, '-i', inventory], { PLUMB_TEST_ENV_SECRET: envSecret });
    expect(r.code).toBe(1);
    // A value read from a secret is never shown, not even redacted: the rule and the variable are.
    expect(r.stderr).toMatch(
      /bad-rendered\.yaml:5:40: error: .*once rendered for host mx1: .*service\.state = \(secret\): expected one of .*, from variables env_secret, env\.PLUMB_TEST_ENV_SECRET/,
    );
    expect(r.all).not.toContain(envSecret);
  });

  it('a secrets file with a non-string value is refused without echoing it', async () => {
    const bad = join(dir, 'bad-secrets.yaml');
    writeFileSync(bad, 'pin: 918273645\n');
    const r = await plumb(['inventory', '-i', inventory, '--secrets', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('secret "pin" must be a string: quote its value');
    expect(r.all).not.toContain('918273645');
  });
});
