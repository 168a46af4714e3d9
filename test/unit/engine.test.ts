/**
 * The engine end to end on the control machine itself (`connection: local`),
 * with real modules and a temp directory: plan → apply → no-op, handlers,
 * notifications that survive a failure, tags, and Ctrl-C.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchSizes } from '../../src/engine/run.js';
import { plumb, startPlumb } from '../e2e/plumb.js';
import { writeIn } from '../write-file.js';

let dir: string;
let env: NodeJS.ProcessEnv;

const write = (name: string, data: unknown): string => writeIn(dir, name, data);

function playbook(tasks: unknown[], handlers: unknown[] = []) {
  return write('site.yaml', [{ name: 'local', hosts: 'all', tasks, handlers }]);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-engine-'));
  // Pending handler notifications go here instead of /var/lib/plumb on this machine.
  env = { PLUMB_STATE_DIR: join(dir, 'state') };
  write('inventory.yaml', { all: { hosts: { here: { connection: 'local' } } } });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const inv = () => ['-i', join(dir, 'inventory.yaml')];

describe('engine on a local host', () => {
  it('plans, applies, then has nothing to do; a handler runs once, only when notified', async () => {
    const log = join(dir, 'handler.log');
    const pb = playbook(
      [
        { name: 'config', copy: { dest: join(dir, 'app.conf'), content: 'a=1\n' }, notify: ['second', 'first'] },
        { name: 'also notifies', copy: { dest: join(dir, 'other.conf'), content: 'b=2\n' }, notify: 'first' },
      ],
      [
        { name: 'first', shell: `echo first >> ${log}` },
        { name: 'second', shell: `echo second >> ${log}` },
      ],
    );
    const plan = await plumb(['plan', pb, ...inv()], env);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/~ config/);
    expect(plan.stdout).toMatch(/handler first — will run because config changes, also notifies changes/);
    expect(existsSync(join(dir, 'app.conf'))).toBe(false); // plan changes nothing

    const apply = await plumb(['apply', pb, ...inv()], env);
    expect(apply.code, apply.stderr).toBe(0);
    expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe('a=1\n');
    expect(readFileSync(log, 'utf8')).toBe('first\nsecond\n'); // once each, in definition order

    const again = await plumb(['apply', pb, ...inv()], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^here\s+ok\s+2\s+0\s/m);
    expect(readFileSync(log, 'utf8')).toBe('first\nsecond\n');
    expect((await plumb(['plan', pb, ...inv()], env)).code).toBe(0);
  });

  it('keeps a handler owed by a failed run and runs it on the next run', async () => {
    const log = join(dir, 'handler.log');
    const handlers = [{ name: 'reload', shell: `echo reload >> ${log}` }];
    const failing = playbook(
      [
        { name: 'config', copy: { dest: join(dir, 'app.conf'), content: 'a=1\n' }, notify: 'reload' },
        { name: 'breaks', shell: 'exit 3' },
      ],
      handlers,
    );
    const first = await plumb(['apply', failing, ...inv()], env);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/^here\s+failed/m);
    expect(existsSync(log)).toBe(false);

    const fixed = playbook([{ name: 'config', copy: { dest: join(dir, 'app.conf'), content: 'a=1\n' }, notify: 'reload' }], handlers);
    const plan = await plumb(['plan', fixed, ...inv()], env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/handler reload — will run because an earlier run changed what it depends on/);
    const second = await plumb(['apply', fixed, ...inv()], env);
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('reload\n');
    const third = await plumb(['apply', fixed, ...inv()], env);
    expect(third.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('reload\n'); // paid once, then forgotten
  });

  it('--tags selects tasks; ignore_errors keeps going', async () => {
    const pb = playbook([
      { name: 'tagged', copy: { dest: join(dir, 'tagged'), content: 'x\n' }, tags: ['web'] },
      { name: 'untagged', copy: { dest: join(dir, 'untagged'), content: 'y\n' } },
      { name: 'tolerated', shell: 'exit 1', ignore_errors: true, tags: ['web'] },
    ]);
    const r = await plumb(['apply', pb, ...inv(), '--tags', 'web'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'tagged'))).toBe(true);
    expect(existsSync(join(dir, 'untagged'))).toBe(false);
    expect(r.stderr).toMatch(/failed \(ignored\) tolerated/);
  });

  it('Ctrl-C lets the running command finish, starts nothing new, prints the recap and exits 130', async () => {
    const pb = playbook([
      { name: 'slow', shell: `touch ${join(dir, 'slow-started')}; sleep 2; touch ${join(dir, 'slow-done')}` },
      { name: 'next', shell: `touch ${join(dir, 'next-ran')}` },
    ]);
    const run = startPlumb(['apply', pb, ...inv()], env);
    await run.waitFor(/here: probed/);
    const started = Date.now();
    while (!existsSync(join(dir, 'slow-started')) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(existsSync(join(dir, 'slow-done'))).toBe(true);
    expect(existsSync(join(dir, 'next-ran'))).toBe(false);
    expect(done.stdout).toMatch(/^RECAP/m);
  });
});

describe('rolling batches on local hosts', () => {
  function serialPlaybook(extra: Record<string, unknown>) {
    const log = join(dir, 'order.log');
    write('three.yaml', { all: { hosts: { h1: { connection: 'local' }, h2: { connection: 'local' }, h3: { connection: 'local' } } } });
    const pb = write('serial.yaml', [
      {
        name: 'rolling',
        hosts: 'all',
        serial: 1,
        ...extra,
        tasks: [{ name: 'mark', shell: `echo {{ inventory_hostname }} >> ${log}; test {{ inventory_hostname }} != h1` }],
      },
    ]);
    return { pb, log, inv: ['-i', join(dir, 'three.yaml')] };
  }

  it('serial: 1 runs one host at a time, in inventory order; a failed host stops only itself', async () => {
    const { pb, log, inv: i } = serialPlaybook({});
    const r = await plumb(['apply', pb, ...i], env);
    expect(r.code).toBe(1);
    expect(readFileSync(log, 'utf8')).toBe('h1\nh2\nh3\n');
    expect(r.stdout).toMatch(/^h1\s+failed/m);
    expect(r.stdout).toMatch(/^h3\s+changed/m);
  });

  it('max_fail_percentage stops the play after the batch that crossed it', async () => {
    const { pb, log, inv: i } = serialPlaybook({ max_fail_percentage: 0 });
    const r = await plumb(['apply', pb, ...i], env);
    expect(r.code).toBe(1);
    expect(readFileSync(log, 'utf8')).toBe('h1\n');
    expect(r.stderr).toMatch(/above max_fail_percentage 0; stopping/);
    expect(r.stdout).toMatch(/^h2\s+not-run/m);
    expect(r.stdout).toMatch(/^h3\s+not-run/m);
  });
});

describe('rolling batches', () => {
  it('splits hosts by count or percentage, never into empty batches', () => {
    expect(batchSizes(10, undefined)).toEqual([10]);
    expect(batchSizes(10, 3)).toEqual([3, 3, 3, 1]);
    expect(batchSizes(10, '25%')).toEqual([2, 2, 2, 2, 2]);
    expect(batchSizes(3, '10%')).toEqual([1, 1, 1]);
    expect(batchSizes(0, 5)).toEqual([0]);
  });
});
