/**
 * Faults on a local host (issue 10, classes 5 and 7): a failure inside a task
 * stays that task's failure; the recap tells what really happened after a
 * fault; owed handlers belong to one playbook; a second Ctrl-C says what is
 * still running. Real modules on scratch directories, through the CLI where a
 * real fault can be made (a destination whose parent is a regular file makes
 * the write itself fail), in process where only a wrapper can inject it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostScope } from '../../src/config/hostvars.js';
import { loadProject } from '../../src/config/project.js';
import { applyHost } from '../../src/engine/applier.js';
import { moduleContext } from '../../src/engine/context.js';
import { pendingKeys } from '../../src/engine/pending.js';
import { planTasks } from '../../src/engine/planner.js';
import { openTransport } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import { plumb, startPlumb } from '../e2e/plumb.js';
import { writeIn } from '../write-file.js';

let dir: string;
let env: NodeJS.ProcessEnv;

const write = (name: string, data: unknown): string => writeIn(dir, name, data);

function playbook(tasks: unknown[], handlers: unknown[] = [], file = 'site.yaml', name = 'local') {
  return write(file, [{ name, hosts: 'all', tasks, handlers }]);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-faults-'));
  env = { PLUMB_STATE_DIR: join(dir, 'state') };
  write('inventory.yaml', { all: { hosts: { here: { connection: 'local' } } } });
  // A regular file where a directory should be: every write below it fails (ENOTDIR), even as root.
  writeFileSync(join(dir, 'notadir'), 'x\n');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const inv = () => ['-i', join(dir, 'inventory.yaml')];
const unwritable = () => join(dir, 'notadir', 'app.conf');

describe('class 5: a failed write is the failure of its task', () => {
  it('ignore_errors covers a failed write: the run goes on and exits 0', async () => {
    const pb = playbook([
      { name: 'write below a file', copy: { dest: unwritable(), content: 'a=1\n' }, ignore_errors: true },
      { name: 'after', copy: { dest: join(dir, 'after.conf'), content: 'b=2\n' } },
    ]);
    const r = await plumb(['apply', pb, ...inv()], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/here: failed \(ignored\) write below a file: writing .*app\.conf failed/);
    expect(readFileSync(join(dir, 'after.conf'), 'utf8')).toBe('b=2\n');
    expect(r.stdout).toMatch(/^here\s+changed\s+0\s+1\s+0\s/m);
  });

  it('without ignore_errors the host stops at that task, and the error lines name the task', async () => {
    const pb = playbook([
      { name: 'first', copy: { dest: join(dir, 'first.conf'), content: 'a\n' } },
      { name: 'write below a file', copy: { dest: unwritable(), content: 'a=1\n' } },
      { name: 'after', copy: { dest: join(dir, 'after.conf'), content: 'b=2\n' } },
    ]);
    const r = await plumb(['apply', pb, ...inv()], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/here: FAILED write below a file: writing .*app\.conf failed/);
    expect(existsSync(join(dir, 'after.conf'))).toBe(false);
    // The recap counts the change made before the failure, and its error line names the task.
    expect(r.stdout).toMatch(/^here\s+failed\s+0\s+1\s+1\s/m);
    expect(r.stdout).toMatch(/^here: .*write below a file.*writing .*app\.conf failed/m);
  });

  it("a failed write in a handler is that handler's failure; owed handlers are kept for the next run", async () => {
    const log = join(dir, 'handler.log');
    const pb = playbook(
      [{ name: 'config', copy: { dest: join(dir, 'app.conf'), content: 'a=1\n' }, notify: ['broken', 'log'] }],
      [
        { name: 'broken', copy: { dest: unwritable(), content: 'x\n' } },
        { name: 'log', shell: `echo ran >> ${log}` },
      ],
    );
    const r = await plumb(['apply', pb, ...inv()], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/here: FAILED handler broken: writing .*app\.conf failed/);
    const plan = await plumb(['plan', pb, ...inv()], env);
    expect(plan.stdout).toMatch(/handler broken — will run because an earlier run changed/);
  });
});

/** The engine in process, with a transport wrapper that injects a fault. */
async function applyWith(pb: string, wrap: (t: Transport) => Transport) {
  const project = await loadProject({ playbookPath: pb, inventoryPath: join(dir, 'inventory.yaml'), extraVars: {} });
  const play = project.playbook.plays[0];
  const host = project.inventory.hosts.get('here')!;
  const scope = hostScope(project, play, host, env);
  const ctx = moduleContext(scope, dir);
  const transport = wrap(await openTransport(host, {}));
  const saved = process.env.PLUMB_STATE_DIR;
  process.env.PLUMB_STATE_DIR = env.PLUMB_STATE_DIR;
  try {
    const pending = pendingKeys(project.playbook, play);
    const planned = await planTasks({ transport, play, scope, ctx, pending });
    return await applyHost({ transport, play, scope, ctx, planned, pending });
  } finally {
    if (saved === undefined) delete process.env.PLUMB_STATE_DIR;
    else process.env.PLUMB_STATE_DIR = saved;
    await transport.close();
  }
}

/** A transport whose writeFile (SFTP or shell, it does not matter to the engine) throws a plain Error. */
const failingWrites = (t: Transport): Transport => ({
  host: t.host,
  exec: (c, o) => t.exec(c, o),
  writeFile: async (path) => {
    throw new Error(`writing ${path} failed: injected fault`);
  },
  close: () => t.close(),
});

describe("class 5 in process: every failure inside a task is that task's failure", () => {
  it('a writeFile that throws fails the task by name; ignore_errors lets the host go on', async () => {
    const pb = playbook([
      { name: 'injected', copy: { dest: join(dir, 'a.conf'), content: 'a\n' }, ignore_errors: true },
      { name: 'next', copy: { dest: join(dir, 'b.conf'), content: 'b\n' }, ignore_errors: true },
      { name: 'last', shell: `touch ${join(dir, 'last')}` },
    ]);
    const { results, failed } = await applyWith(pb, failingWrites);
    expect(failed).toBe(false);
    expect(results.map((r) => [r.name, r.status, r.ignored ?? false])).toEqual([
      ['injected', 'failed', true],
      ['next', 'failed', true],
      ['last', 'changed', false],
    ]);
    expect(results[0].error).toMatch(/injected fault/);
    expect(existsSync(join(dir, 'last'))).toBe(true);
  });

  it('a writeFile that throws stops the host at that task when errors are not ignored', async () => {
    const pb = playbook([
      { name: 'injected', copy: { dest: join(dir, 'a.conf'), content: 'a\n' } },
      { name: 'last', shell: `touch ${join(dir, 'last')}` },
    ]);
    const { results, failed } = await applyWith(pb, failingWrites);
    expect(failed).toBe(true);
    expect(results.map((r) => [r.name, r.status])).toEqual([['injected', 'failed']]);
    expect(existsSync(join(dir, 'last'))).toBe(false);
  });

  it('an exec that throws (not a non-zero exit) is the failure of its task', async () => {
    const pb = playbook([
      { name: 'thrown', shell: 'true', ignore_errors: true },
      { name: 'last', shell: `touch ${join(dir, 'last')}` },
    ]);
    const { results } = await applyWith(pb, (t) => ({
      host: t.host,
      exec: (c, o) => (o?.label === 'thrown' ? Promise.reject(new Error('cannot run thrown: injected')) : t.exec(c, o)),
      writeFile: (p, c, o) => t.writeFile(p, c, o),
      close: () => t.close(),
    }));
    expect(results.map((r) => [r.name, r.status, r.ignored ?? false])).toEqual([
      ['thrown', 'failed', true],
      ['last', 'changed', false],
    ]);
  });

  it('a handler whose arguments cannot be rendered fails as that handler, before the host is changed', async () => {
    // validate renders everything first; this reaches the engine only when run in process.
    // Handlers are prepared with the tasks, before the first probe (issue 10 class 1: nothing runs on a host whose task cannot be prepared).
    const dest = join(dir, 'a.conf');
    const pb = playbook([{ name: 'config', copy: { dest, content: 'a\n' }, notify: 'bad' }], [{ name: 'bad', shell: 'echo {{ no_such_variable }}' }]);
    await expect(applyWith(pb, (t) => t)).rejects.toThrow(/task "bad": .*undefined variable "no_such_variable"/);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('class 7: truthful records after faults', () => {
  it('after Ctrl-C the recap counts the changes already made on the host', async () => {
    const started = join(dir, 'slow-started');
    const pb = playbook([
      { name: 'config', copy: { dest: join(dir, 'app.conf'), content: 'a=1\n' } },
      { name: 'slow', shell: `touch ${started}; sleep 2` },
      { name: 'never', shell: `touch ${join(dir, 'never')}` },
    ]);
    const run = startPlumb(['apply', pb, ...inv()], env);
    await waitForFile(started);
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe('a=1\n');
    expect(existsSync(join(dir, 'never'))).toBe(false);
    // config and slow both changed the host; the row says the run was cut short, not that nothing ran.
    expect(done.stdout).toMatch(/^here\s+interrupted\s+0\s+2\s+0\s+0\s/m);
    expect(done.stdout).not.toMatch(/^here\s+not-run/m);
  });

  it('a plan does not count a task that errored as a task to change', async () => {
    mkdirSync(join(dir, 'adir'));
    const pb = playbook([
      { name: 'dest is a directory', copy: { dest: join(dir, 'adir'), content: 'x\n' } },
      { name: 'real change', copy: { dest: join(dir, 'new.conf'), content: 'y\n' } },
    ]);
    const r = await plumb(['plan', pb, ...inv()], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^here\s+failed\s+0\s+1\s+1\s/m);
    expect(r.stderr).toMatch(/^here: .*dest is a directory.*is a directory/m);
  });

  it('another playbook with the same play name neither runs nor clears the handlers owed to the first', async () => {
    const logA = join(dir, 'a.log');
    const logB = join(dir, 'b.log');
    const a = playbook(
      [
        { name: 'config', copy: { dest: join(dir, 'a.conf'), content: 'a\n' }, notify: 'reload' },
        { name: 'breaks', shell: 'exit 3' },
      ],
      [{ name: 'reload', shell: `echo reload >> ${logA}` }],
      'a.yaml',
      'mail',
    );
    const b = playbook([{ name: 'other', copy: { dest: join(dir, 'b.conf'), content: 'b\n' } }], [{ name: 'reload', shell: `echo reload >> ${logB}` }], 'b.yaml', 'mail');
    expect((await plumb(['apply', a, ...inv()], env)).code).toBe(1);
    const planB = await plumb(['plan', b, ...inv()], env);
    expect(planB.stdout).not.toMatch(/handler reload/);
    const applyB = await plumb(['apply', b, ...inv()], env);
    expect(applyB.code, applyB.stderr).toBe(0);
    expect(existsSync(logB)).toBe(false);
    const planA = await plumb(['plan', a, ...inv()], env);
    expect(planA.stdout).toMatch(/handler reload — will run because an earlier run changed/);
  });

  it('two plays with the same name in one playbook keep their own owed handlers', async () => {
    const log1 = join(dir, 'one.log');
    const log2 = join(dir, 'two.log');
    const plays = (breaks: boolean) => [
      { name: 'same', hosts: 'all', tasks: [{ name: 'noop', shell: 'true', changed_when: false }], handlers: [{ name: 'reload', shell: `echo one >> ${log1}` }] },
      {
        name: 'same',
        hosts: 'all',
        tasks: [{ name: 'config', copy: { dest: join(dir, 'two.conf'), content: 'two\n' }, notify: 'reload' }, ...(breaks ? [{ name: 'breaks', shell: 'exit 3' }] : [])],
        handlers: [{ name: 'reload', shell: `echo two >> ${log2}` }],
      },
    ];
    const pb = write('twice.yaml', plays(true));
    expect((await plumb(['apply', pb, ...inv()], env)).code).toBe(1);
    write('twice.yaml', plays(false)); // fixed in place: same file, so the debt is still found
    const r = await plumb(['apply', pb, ...inv()], env);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(log1)).toBe(false);
    expect(readFileSync(log2, 'utf8')).toBe('two\n');
  });

  it('handlers owed under the old key format (play name and hosts) are still run once, then forgotten', async () => {
    const log = join(dir, 'legacy.log');
    const pb = playbook([{ name: 'noop', shell: 'true', changed_when: false }], [{ name: 'reload', shell: `echo reload >> ${log}` }]);
    const legacy = createHash('sha256').update('local\0all').digest('hex').slice(0, 16);
    mkdirSync(join(dir, 'state', 'pending'), { recursive: true });
    writeFileSync(join(dir, 'state', 'pending', `${legacy}.json`), '["reload"]');
    const plan = await plumb(['plan', pb, ...inv()], env);
    expect(plan.stdout).toMatch(/handler reload — will run because an earlier run changed/);
    expect((await plumb(['apply', pb, ...inv()], env)).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('reload\n');
    expect(existsSync(join(dir, 'state', 'pending', `${legacy}.json`))).toBe(false);
    expect((await plumb(['plan', pb, ...inv()], env)).stdout).not.toMatch(/handler reload/);
  });

  it('a second Ctrl-C quits at once and says what is still running: host, task, command', async () => {
    const pidFile = join(dir, 'slow.pid');
    const pb = playbook([{ name: 'slow', shell: `echo $$ > ${pidFile}; exec sleep 30` }]);
    const run = startPlumb(['apply', pb, ...inv()], env);
    try {
      await waitForFile(pidFile, true);
      const t0 = Date.now();
      run.child.kill('SIGINT');
      await run.waitFor(/interrupted: no new task starts/);
      run.child.kill('SIGINT');
      const done = await run.done;
      expect(done.code).toBe(130);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(done.stderr).toMatch(/still running/i);
      expect(done.stderr).toMatch(/^\s+here: task "slow": echo \$\$ > .*exec sleep 30 \(running [\d.]+ s\)$/m);
    } finally {
      run.child.kill('SIGKILL');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});

/** Waits for a file to exist (and, with `filled`, to have content). */
async function waitForFile(path: string, filled = false): Promise<void> {
  const started = Date.now();
  while (!existsSync(path) || (filled && readFileSync(path, 'utf8') === '')) {
    if (Date.now() - started > 30_000) throw new Error(`${path} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
