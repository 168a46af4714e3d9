/**
 * Issue 10, class 8: every file plumb reads on the control machine (playbook,
 * inventory, vars, secrets, -e @file, known_hosts, ssh config, identity files,
 * copy/template `src`, saved plans) is opened without blocking, refused at
 * once when it is not a regular file (FIFO, /dev/zero, a directory, a
 * terminal), and read only up to a limit counted in bytes actually read, not
 * in what stat reports (a /proc file says 0, a file can grow).
 *
 * Anything that could hang before the fix runs in a child process with a
 * deadline, so a hang is a failed test and not a stuck test run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'plumb-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fifo = join(dir, 'pipe.yaml');
execFileSync('mkfifo', [fifo]);
const fifoJson = join(dir, 'plan.json');
execFileSync('mkfifo', [fifoJson]);
const aDir = join(dir, 'a-directory');
mkdirSync(aDir);
const inventory = 'test/fixtures/good/inventory.yaml';
const playbook = 'test/fixtures/good/minimal.yaml';
const DEADLINE_MS = 20_000;

function plumb(args: string[], input?: string) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['bin/plumb.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: dir, PLUMB_FROM_SOURCE: '1' },
    timeout: DEADLINE_MS,
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  return { code: r.status, stderr: r.stderr, ms: Date.now() - started };
}

/** Run an ES module snippet against the sources in a child (tsx), with a deadline; its stdout is the result. */
function child(code: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    cwd: resolve('.'),
    env: { PATH: process.env.PATH, HOME: dir },
    timeout: DEADLINE_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, signal: r.signal, out: r.stdout.trim(), stderr: r.stderr };
}
const src = (p: string) => JSON.stringify(resolve('src', p));
/** The message of what `expr` (awaited) throws, printed by the child. */
const thrown = (imports: string, expr: string) => child(`${imports}\ntry { await (${expr}); console.log('NO ERROR'); } catch (e) { console.log(e.message); }`);

describe('the CLI refuses files that are not regular files, at once', () => {
  it.each([
    ['playbook FIFO', ['validate', fifo, '-i', inventory], /pipe\.yaml:1:1: error: cannot read playbook: it is a named pipe \(FIFO\)/],
    ['inventory /dev/zero', ['validate', playbook, '-i', '/dev/zero'], /\/dev\/zero:1:1: error: cannot read inventory: it is a character device/],
    ['inventory /dev/null (read as empty, the usual "none")', ['validate', playbook, '-i', '/dev/null'], /\/dev\/null:1:1: error: inventory is empty/],
    ['secrets FIFO', ['validate', playbook, '-i', inventory, '--secrets', fifo], /pipe\.yaml:1:1: error: cannot read secrets file: it is a named pipe/],
    ['-e @FIFO', ['validate', playbook, '-i', inventory, '-e', `@${fifo}`], /pipe\.yaml:1:1: error: cannot read extra vars file: it is a named pipe/],
    ['playbook directory', ['validate', aDir, '-i', inventory], /a-directory:1:1: error: cannot read playbook: it is a directory/],
    ['saved plan FIFO', ['apply', fifoJson, '-i', inventory], /plan\.json:1:1: error: cannot read playbook: it is a named pipe/],
  ])('%s', (_what, args, expected) => {
    const r = plumb(args as string[]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(expected as RegExp);
    expect(r.ms).toBeLessThan(DEADLINE_MS / 2);
  });

  it('-e @/dev/stdin with vars piped in is refused, not read from the pipe', () => {
    const r = plumb(['validate', playbook, '-i', inventory, '-e', '@/dev/stdin'], 'x: 1\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/dev\/stdin:1:1: error: cannot read extra vars file: it is (a named pipe|a socket)/);
  });

  it('a vars_files entry that is a FIFO is reported at the entry, naming the file', () => {
    const p = join(dir, 'vars-fifo.yaml');
    writeFileSync(p, `- hosts: all\n  vars_files:\n    - ${fifo}\n  tasks: []\n`);
    const r = plumb(['validate', p, '-i', inventory]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:3:7: error: plays[0].vars_files[0]: cannot read vars file ${fifo}: it is a named pipe (FIFO)`);
  });

  it('a YAML file over 512 KiB is still refused with its size', () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '# pad\n'.repeat(120_000));
    const r = plumb(['validate', big, '-i', inventory]);
    expect(r.stderr).toMatch(/big\.yaml:1:1: error: playbook is 704 KiB; plumb reads YAML files up to 512 KiB/);
  });
});

describe('readLimited: one bounded reader', () => {
  const imports = `import { readLimited } from ${src('local-file.ts')};`;

  it('counts bytes read, not the size stat reports (/proc files say 0)', () => {
    const r = thrown(imports, `readLimited('/proc/self/status', { limit: 64, what: 'test file' })`);
    expect(r.out).toBe('cannot read test file /proc/self/status: it is larger than 64 bytes');
    const ok = child(`${imports}\nconsole.log(readLimited('/proc/self/status', { limit: 1 << 20, what: 'x' }).toString().startsWith('Name:'))`);
    expect(ok.out).toBe('true');
  });

  it('reads a file of exactly the limit and refuses one byte more', () => {
    writeFileSync(join(dir, 'exact'), 'x'.repeat(100));
    writeFileSync(join(dir, 'over'), 'x'.repeat(101));
    const r = child(`${imports}
      console.log(readLimited(${JSON.stringify(join(dir, 'exact'))}, { limit: 100, what: 'f' }).length);
      try { readLimited(${JSON.stringify(join(dir, 'over'))}, { limit: 100, what: 'f' }); } catch (e) { console.log(e.message); }`);
    expect(r.out.split('\n')).toEqual(['100', `cannot read f ${join(dir, 'over')}: it is 101 bytes, larger than 100 bytes`]);
  });

  it.each([
    ['/dev/zero', /it is a character device/],
    ['/dev/full', /it is a character device/],
    ['/dev/urandom', /it is a character device/],
    [fifo, /it is a named pipe \(FIFO\)/],
    [aDir, /it is a directory/],
    [join(dir, 'missing'), /no such file/],
  ])('refuses %s at once, naming it', (path, reason) => {
    const r = thrown(imports, `readLimited(${JSON.stringify(path)}, { limit: 1024, what: 'test file' })`);
    expect(r.signal).toBeNull();
    expect(r.out).toContain(`cannot read test file ${path}: `);
    expect(r.out).toMatch(reason);
  });
});

describe('every other reader goes through it', () => {
  it('known_hosts that is a FIFO: an error naming it, not a hang', () => {
    const r = thrown(`import { KnownHosts } from ${src('transport/known-hosts.ts')};`, `new KnownHosts([${JSON.stringify(fifo)}])`);
    expect(r.out).toMatch(new RegExp(`cannot read known_hosts file ${fifo}: it is a named pipe`));
  });

  it('ssh config that is a FIFO: an error naming it, not a hang', () => {
    const cfg = join(dir, 'ssh-config-fifo');
    execFileSync('mkfifo', [cfg]);
    const r = thrown(`import { resolveEndpoint } from ${src('transport/ssh-config.ts')};`, `resolveEndpoint('web', {}, ${JSON.stringify(cfg)})`);
    expect(r.out).toMatch(new RegExp(`cannot read ssh config ${cfg}: it is a named pipe`));
  });

  it('an identity file that is /dev/zero: an error naming it, not a 1 GB read', () => {
    const r = thrown(`import { readIdentity } from ${src('transport/ssh.ts')};`, `readIdentity('/dev/zero')`);
    expect(r.out).toMatch(/cannot read identity file \/dev\/zero: it is a character device/);
  });

  it('copy/template src on the controller that is a FIFO: an error naming it', () => {
    const r = thrown(
      `import { moduleContext } from ${src('engine/context.ts')};`,
      `moduleContext({ redactor: { redact: (s) => s, has: () => false }, render: (s) => s, scope: {} }, ${JSON.stringify(dir)}).readLocal('pipe.yaml')`,
    );
    expect(r.out).toMatch(new RegExp(`cannot read local file ${fifo}: it is a named pipe`));
  });

  it('a saved plan that is a FIFO: readSavedPlan names it; looksLikeSavedPlan says no', () => {
    const imports = `import { readSavedPlan, looksLikeSavedPlan } from ${src('engine/saved-plan.ts')};`;
    expect(thrown(imports, `readSavedPlan(${JSON.stringify(fifoJson)})`).out).toMatch(new RegExp(`${fifoJson}: not a readable plan file: .*it is a named pipe`));
    expect(child(`${imports}\nconsole.log(looksLikeSavedPlan(${JSON.stringify(fifoJson)}))`).out).toBe('false');
  });
});
