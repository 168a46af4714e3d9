/**
 * Issue 10, class 8: a NUL character can never reach a command (argv cannot
 * hold one), so it is refused where it enters: in any YAML file (a raw NUL
 * byte, or a "\0" / "\x00" / "\u0000" escape in a double-quoted scalar) and in
 * -e values, with file:line:column. Before, validate said "valid" and apply
 * failed inside quote().
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationFailed, type Diagnostic } from '../../src/source/diagnostics.js';
import { loadProject, parseExtraVars } from '../../src/config/project.js';
import { runCli } from '../in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-nul-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inventory = 'test/fixtures/good/inventory.yaml';
const playbook = 'test/fixtures/good/minimal.yaml';

let n = 0;
function file(text: string | Buffer): string {
  const path = join(dir, `f${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

async function errorsOf(opts: { playbookPath?: string; inventoryPath?: string; secretsFile?: string }): Promise<Diagnostic[]> {
  try {
    await loadProject({ playbookPath: opts.playbookPath ?? playbook, inventoryPath: opts.inventoryPath ?? inventory, secretsFile: opts.secretsFile });
  } catch (err) {
    if (err instanceof ValidationFailed) return err.errors;
    throw err;
  }
  return [];
}

const task = (cmd: string) => `- hosts: all\n  tasks:\n    - name: t\n      command:\n        cmd: ${cmd}\n`;
// line 5, the value starts at column 14
const CMD_LINE = 5;
const CMD_COL = 14;

describe('NUL in YAML', () => {
  it('a raw NUL byte in a task argument: error at its exact line and column', async () => {
    const p = file(Buffer.from(task('"echo a\0b"'), 'utf8'));
    const errs = await errorsOf({ playbookPath: p });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ file: p, line: CMD_LINE, column: CMD_COL + 7 });
    expect(errs[0].message).toMatch(/NUL/);
  });

  // [the double-quoted scalar as written, offset of the NUL escape from its opening quote]
  it.each([
    ['"echo a\\0"', 7],
    ['"echo a\\x00"', 7],
    ['"echo a\\u0000"', 7],
    ['"echo a\\U00000000"', 7],
    ['"echo \\\\ \\0"', 9],
  ])('%s as a task argument: error at the escape', async (scalar, offset) => {
    const p = file(task(scalar));
    const errs = await errorsOf({ playbookPath: p });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ file: p, line: CMD_LINE, column: CMD_COL + offset });
    expect(errs[0].message).toMatch(/NUL/);
  });

  it('an escaped backslash followed by 0 is not a NUL and stays valid', async () => {
    expect(await errorsOf({ playbookPath: file(task('"echo a\\\\0"')) })).toEqual([]);
  });

  it('a NUL in a mapping key is refused', async () => {
    const p = file('- hosts: all\n  vars:\n    "a\\0b": 1\n  tasks: []\n');
    const errs = await errorsOf({ playbookPath: p });
    expect(errs.some((e) => e.line === 3 && /NUL/.test(e.message))).toBe(true);
  });

  it('a NUL in an inventory variable is refused with its position', async () => {
    const p = file('all:\n  hosts:\n    web1:\n      motd: "x\\0"\n');
    const errs = await errorsOf({ inventoryPath: p });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ file: p, line: 4, column: 15 }); // the backslash of \0
  });

  it('a NUL in a vars file is refused', async () => {
    const vars = file('greeting: "hi\\x00"\n');
    const p = file(`- hosts: all\n  vars_files: [${vars}]\n  tasks: []\n`);
    const errs = await errorsOf({ playbookPath: p });
    expect(errs.some((e) => e.file === vars && e.line === 1 && /NUL/.test(e.message))).toBe(true);
  });

  it('a NUL in a secrets file is refused without echoing the secret', async () => {
    const secrets = file(Buffer.from('relay_password: "hunter2\0tail"\n', 'utf8'));
    const errs = await errorsOf({ secretsFile: secrets });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ file: secrets, line: 1 });
    expect(JSON.stringify(errs)).not.toMatch(/hunter2|tail/);
  });

  it('-e with a NUL (JSON escape in a {mapping}) is refused', () => {
    expect(() => parseExtraVars(['{"x": "a\\u0000b"}'])).toThrow(/NUL/);
    expect(() => parseExtraVars([`@${file('x: "\\0"\n')}`])).toThrow(/NUL/);
  });

  it('plumb validate exits 1 and prints file:line:column', async () => {
    const p = file(task('"rm -rf /tmp/x\\0/etc"'));
    const r = await runCli(['validate', p, '-i', inventory], { PATH: process.env.PATH, HOME: process.env.HOME });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:${CMD_LINE}:${CMD_COL + 14}: error:`);
    expect(r.stderr).toMatch(/NUL/);
  });
});
