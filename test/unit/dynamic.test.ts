/**
 * Loops, register and set_fact (issue 13): each loop form's items, load-time
 * errors with positions, and the engine on this machine (connection: local):
 * a plan that says which tasks depend on what, and the round trips of a no-op.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loopItems } from '../../src/engine/loops.js';
import { ShellTransport } from '../../src/transport/base-transport.js';
import { runCli } from '../in-process.js';
import { writeIn } from '../write-file.js';

describe('loop forms', () => {
  const items = (form: Parameters<typeof loopItems>[0]['form'], value: unknown, dirs: string[] = []) => loopItems({ form }, value, dirs);
  it('loop and with_list keep the list; with_items flattens one level', () => {
    expect(items('loop', [1, [2, 3]])).toEqual([1, [2, 3]]);
    expect(items('with_list', [[1], [2]])).toEqual([[1], [2]]);
    expect(items('with_items', [[1, [2]], 3])).toEqual([1, [2], 3]);
    expect(() => items('loop', 'abc')).toThrow(/loop needs a list, the value is a string/);
  });
  it('with_dict, with_together, with_subelements', () => {
    expect(items('with_dict', { a: 1, b: 2 })).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(items('with_together', [[1, 2], ['x']])).toEqual([
      [1, 'x'],
      [2, null],
    ]);
    const users = [{ n: 'a', k: [1, 2] }, { n: 'b' }];
    expect(() => items('with_subelements', [users, 'k'])).toThrow(/no key "k"/);
    expect(items('with_subelements', [users, 'k', { skip_missing: true }])).toEqual([
      [users[0], 1],
      [users[0], 2],
    ]);
  });
  it('with_sequence: key=value, count, the shortcut, a mapping; strings formatted printf-style, as Ansible', () => {
    expect(items('with_sequence', 'start=1 end=7 stride=3 format=s%02d')).toEqual(['s01', 's04', 's07']);
    expect(items('with_sequence', 'start=0x0f00 count=4 format=%04x')).toEqual(['0f00', '0f01', '0f02', '0f03']);
    expect(items('with_sequence', 'start=1 count=5 stride=2')).toEqual(['1', '3', '5', '7', '9']);
    expect(items('with_sequence', 'count=0')).toEqual([]);
    expect(items('with_sequence', '5')).toEqual(['1', '2', '3', '4', '5']);
    expect(items('with_sequence', '4:host%02d')).toEqual(['host01', 'host02', 'host03', 'host04']);
    expect(items('with_sequence', '2-10/4')).toEqual(['2', '6', '10']);
    expect(items('with_sequence', 'start=5 end=1 stride=-2')).toEqual(['5', '3', '1']);
    // The mapping form (ansible-core 2.14 refuses it: it reads the mapping as free-form text).
    expect(items('with_sequence', { start: 3, end: 4, format: 'n%d' })).toEqual(['n3', 'n4']);
    expect(() => items('with_sequence', 'start=1')).toThrow(/give count or end/);
    expect(() => items('with_sequence', 'start=1 end=3 count=2')).toThrow(/both count and end/);
    expect(() => items('with_sequence', 'start=5 end=1')).toThrow(/to count backwards make stride negative/);
    expect(() => items('with_sequence', 'end=3 format=%d-%d')).toThrow(/bad formatting string/);
    expect(() => items('with_sequence', 'start=010 end=12')).toThrow(/can't parse start=010 as integer/);
    expect(() => items('with_sequence', 'end=3 step=1')).toThrow(/unrecognized arguments step/);
  });
  it('with_nested: every combination, first list outermost, one level flattened; with_indexed_items: [index, item]', () => {
    expect(items('with_nested', [['a', ['b', 'c']], 'x', [1, 2]])).toEqual([
      ['a', 'x', 1],
      ['a', 'x', 2],
      ['b', 'c', 'x', 1],
      ['b', 'c', 'x', 2],
    ]);
    expect(items('with_indexed_items', ['a', ['b', 'c'], { k: 'v' }])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, { k: 'v' }],
    ]);
    expect(() => items('with_nested', [])).toThrow(/at least one list/);
  });
  it('with_fileglob and with_first_found look on the controller, in the search directories', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-loops-'));
    try {
      mkdirSync(join(dir, 'files'));
      writeIn(dir, 'files/b.conf', 'b');
      writeIn(dir, 'files/a.conf', 'a');
      writeIn(dir, 'files/c.txt', 'c');
      const dirs = [join(dir, 'files'), dir];
      expect(items('with_fileglob', '*.conf', dirs)).toEqual([join(dir, 'files/a.conf'), join(dir, 'files/b.conf')]);
      expect(items('with_first_found', ['nope.conf', 'c.txt', 'a.conf'], dirs)).toEqual([join(dir, 'files/c.txt')]);
      expect(items('with_first_found', [{ files: ['x', 'y'], skip: true }], dirs)).toEqual([]);
      expect(() => items('with_first_found', ['x'], dirs)).toThrow(/none of "x" exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-dynamic-'));
  env = { PATH: process.env.PATH, PLUMB_STATE_DIR: join(dir, 'state') };
  writeIn(dir, 'inventory.yaml', { all: { hosts: { here: { connection: 'local' } } } });
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});
const playbook = (tasks: unknown[]) => writeIn(dir, 'site.yaml', [{ name: 'local', hosts: 'all', vars: { d: dir }, tasks }]);
const cli = (...args: string[]) => runCli([...args, '-i', join(dir, 'inventory.yaml')], env);

describe('load-time checks', () => {
  it('names a loop that is not a list, two loops on one task, loop_control alone, a bad register', async () => {
    const pb = playbook([
      { copy: { dest: '/tmp/x', content: 'x' }, loop: 5 },
      { copy: { dest: '/tmp/x', content: 'x' }, loop: [1], with_items: [2] },
      { copy: { dest: '/tmp/x', content: 'x' }, loop_control: { label: 'x' } },
      { command: 'true', register: '1bad' },
    ]);
    const r = await cli('validate', pb);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yaml:\d+:\d+: error: plays\[0\]\.tasks\[0\]\.loop: loop needs a list/);
    expect(r.stderr).toMatch(/tasks\[1\]\.with_items: a task has one loop: "loop" and "with_items" are both given/);
    expect(r.stderr).toMatch(/tasks\[2\]\.loop_control: loop_control without a loop/);
    expect(r.stderr).toMatch(/tasks\[3\]\.register: register "1bad" is not a valid variable name/);
  });
  it('checks a literal with_sequence at load time; with_random_choice is still refused', async () => {
    const pb = playbook([
      { command: 'echo {{ item }}', with_sequence: 'start=4 end=1' },
      { command: 'echo {{ item }}', with_sequence: 'start={{ n }} end=1' },
      { command: 'echo {{ item }}', with_random_choice: ['a'] },
    ]);
    const r = await cli('validate', pb);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yaml:\d+:\d+: error: plays\[0\]\.tasks\[0\]\.with_sequence: with_sequence: to count backwards make stride negative/);
    expect(r.stderr).not.toMatch(/tasks\[1\]/);
    expect(r.stderr).toMatch(/tasks\[2\]\.with_random_choice: "with_random_choice" is not supported yet/);
  });
});

describe('plans with loops and registered results', () => {
  it('probes a task gated on a read-only command in the same batch; a value known only after a change is "depends on"', async () => {
    writeIn(dir, 'mark', 'on\n');
    const pb = playbook([
      { name: 'read', command: `cat ${dir}/mark`, register: 'mark', changed_when: false },
      { name: 'gated', copy: { dest: `${dir}/gated`, content: 'g\n' }, when: "mark.stdout == 'on'" },
      { name: 'not gated', copy: { dest: `${dir}/off`, content: 'g\n' }, when: "mark.stdout == 'off'" },
      { name: 'changes', shell: `echo changed > ${dir}/log`, register: 'ran' },
      { name: 'after', copy: { dest: `${dir}/after`, content: '{{ ran.rc }}\n' } },
      { name: 'items', copy: { dest: `${dir}/item-{{ item }}`, content: '{{ item }}\n' }, loop: ['a', 'b'] },
    ]);
    const r = await cli('plan', pb, '--format', 'json');
    expect(r.code, r.stderr).toBe(2);
    const tasks = (JSON.parse(r.stdout) as { hosts: Array<{ tasks: Array<{ name: string; outcome: string; reason?: string; item?: { index: number; label: string } }> }> }).hosts[0]
      .tasks;
    const by = (name: string) => tasks.find((t) => t.name === name)!;
    expect(by('read').outcome).toBe('ok');
    expect(by('gated').outcome).toBe('change');
    expect(by('not gated').outcome).toBe('skipped');
    expect(by('after')).toMatchObject({ outcome: 'may-change', reason: 'depends on "changes"' });
    expect(by('items (b)')).toMatchObject({ outcome: 'change', item: { index: 1, label: 'b' } });
  });

  it('a no-op of a 20-item loop and a registered read-only command costs the round trips of a plain no-op', async () => {
    const items = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const dynamic = playbook([
      { name: 'read', command: `cat ${dir}/seed`, register: 'seed', changed_when: false },
      { name: 'keys', copy: { dest: `${dir}/key-{{ item }}`, content: '{{ item }}\n' }, loop: items, when: "seed.stdout == 'seed'" },
    ]);
    const plain = writeIn(dir, 'plain.yaml', [{ name: 'local', hosts: 'all', tasks: [{ name: 'seed', copy: { dest: `${dir}/seed`, content: 'seed\n' } }] }]);
    expect((await cli('apply', plain)).code).toBe(0);
    expect((await cli('apply', dynamic)).code).toBe(0);
    const execs = vi.spyOn(ShellTransport.prototype, 'exec');
    const count = async (pb: string) => {
      execs.mockClear();
      const r = await cli('apply', pb);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^here\s+ok\s/m);
      return execs.mock.calls.length;
    };
    const seed = await count(plain);
    const loop = await count(dynamic);
    expect(seed).toBeGreaterThan(0);
    console.info(`exec round trips of a no-op apply: plain ${seed}, 20-item loop + registered read ${loop}`);
    expect(loop).toBeLessThanOrEqual(Math.floor(seed * 1.3));
  });

  it('registers what really ran at apply, with failed_when and until', async () => {
    const pb = playbook([
      { name: 'count', shell: `echo x >> ${dir}/tries; wc -l < ${dir}/tries`, register: 'n', until: 'n.stdout == "3"', retries: 5, delay: 0 },
      { name: 'exit 4', shell: 'exit 4', register: 'four', failed_when: 'four.rc != 4' },
      { name: 'write', copy: { dest: `${dir}/result`, content: '{{ n.stdout }} {{ four.rc }} {{ four.failed }}\n' } },
    ]);
    const r = await cli('apply', pb);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'result'), 'utf8')).toBe('3 4 False\n');
  });
});
