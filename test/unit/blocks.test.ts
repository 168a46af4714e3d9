/**
 * block / rescue / always, meta actions, run_once, delegate_to, any_errors_fatal and
 * ignore_unreachable: what loads (inheritance, positions, refusals), what plans say (rescue tasks
 * that may run, handlers at their flush points), and the applier's handling of owed handlers
 * across flush points, on the control machine (connection: local). Faults that need a broken
 * connection or several hosts use a wrapping transport or the batch state directly.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { Task } from '../../src/config/model.js';
import { hostScope } from '../../src/config/hostvars.js';
import { loadProject } from '../../src/config/project.js';
import { applyHost } from '../../src/engine/applier.js';
import { BatchState } from '../../src/engine/batch.js';
import { moduleContext } from '../../src/engine/context.js';
import { pendingKeys } from '../../src/engine/pending.js';
import { planTasks } from '../../src/engine/planner.js';
import { DiagnosticList } from '../../src/source/diagnostics.js';
import { openTransport } from '../../src/transport/index.js';
import { UnreachableError, type Transport } from '../../src/transport/types.js';
import { plumb } from '../e2e/plumb.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { jsonSchema } from '../../src/config/jsonschema.js';
import { writeIn } from '../write-file.js';

let dir: string;
let env: NodeJS.ProcessEnv;
const write = (name: string, data: unknown): string => writeIn(dir, name, data);
const inv = () => ['-i', join(dir, 'inventory.yaml')];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-blocks-'));
  env = { PLUMB_STATE_DIR: join(dir, 'state') };
  write('inventory.yaml', { all: { hosts: { here: { connection: 'local' } } } });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(plays: unknown): { tasks: Task[]; errors: string[] } {
  const diags = new DiagnosticList();
  const pb = loadPlaybook(write('site.yaml', plays), diags);
  return { tasks: pb?.plays[0]?.tasks ?? [], errors: diags.items.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.column}: ${d.message}`) };
}

const byName = (tasks: Task[], name: string) => tasks.find((t) => t.name === name)!;

describe('loading blocks', () => {
  it('gives a block’s keywords to its tasks as Ansible does; a task’s own keyword wins', () => {
    const { tasks, errors } = load([
      {
        hosts: 'all',
        tasks: [
          {
            name: 'outer',
            when: 'a is defined',
            tags: ['t1'],
            become: true,
            become_user: 'postfix',
            notify: 'h',
            ignore_errors: true,
            vars: { word: 'outer' },
            run_once: true,
            any_errors_fatal: true,
            delegate_to: '127.0.0.1',
            block: [
              { name: 'one', command: 'true', ignore_errors: false, become: false },
              { name: 'inner', tags: 't2', when: 'b', block: [{ name: 'two', command: 'true' }], rescue: [{ name: 'fix', command: 'true' }] },
            ],
            always: [{ name: 'last', command: 'true', ignore_unreachable: true }],
          },
        ],
        handlers: [{ name: 'h', command: 'true' }],
      },
    ]);
    expect(errors).toEqual([]);
    const one = byName(tasks, 'one');
    expect(one).toMatchObject({
      when: 'a is defined',
      tags: ['t1'],
      become: false,
      become_user: 'postfix',
      notify: ['h'],
      ignore_errors: false,
      run_once: true,
      any_errors_fatal: true,
      delegate_to: 'localhost',
    });
    expect(one.scoped?.vars).toEqual({ word: 'outer' });
    const two = byName(tasks, 'two');
    expect(two.when).toBe('(a is defined) and (b)');
    expect(two.tags).toEqual(['t1', 't2']);
    expect(two.ignore_errors).toBe(true);
    expect(two.blocks?.map((f) => `${f.block.name ?? '-'}:${f.section}`)).toEqual(['outer:block', 'inner:block']);
    expect(byName(tasks, 'fix').blocks?.map((f) => f.section)).toEqual(['block', 'rescue']);
    expect(byName(tasks, 'last')).toMatchObject({ ignore_unreachable: true, blocks: [expect.objectContaining({ section: 'always' })] });
    expect(tasks.map((t) => t.name)).toEqual(['one', 'two', 'fix', 'last']);
  });

  it('marks pre_tasks and post_tasks, and loads meta actions as tasks', () => {
    const { tasks, errors } = load([
      {
        hosts: 'all',
        pre_tasks: [{ name: 'p', command: 'true' }],
        tasks: [{ meta: 'flush_handlers' }, { name: 'stop', meta: 'end_host', when: 'x' }],
        post_tasks: [{ name: 'q', command: 'true' }],
      },
    ]);
    expect(errors).toEqual([]);
    expect(tasks.map((t) => [t.name, t.phase ?? 'tasks', t.meta ?? '-'])).toEqual([
      ['p', 'pre_tasks', '-'],
      ['meta: flush_handlers', 'tasks', 'flush_handlers'],
      ['stop', 'tasks', 'end_host'],
      ['q', 'post_tasks', '-'],
    ]);
  });

  it('refuses bad shapes, each at its own position', () => {
    const { errors } = load([
      {
        hosts: 'all',
        tasks: [
          { block: 'not a list' },
          { rescue: [{ command: 'true' }] },
          { block: [], resuce: [] },
          { meta: 'clear_host_errors' },
          { meta: 'flush_handler' },
          { command: 'true', delegate_to: 'mail2' },
          { meta: 'noop', command: 'true' },
          { block: [{ name: 'bad inside', command: 'true', when: 'a ==' }] },
        ],
        handlers: [{ name: 'h', block: [] }],
      },
    ]);
    expect(errors).toEqual([
      '3:14: block: must be a list of tasks, found the string "not a list"',
      '4:7: "rescue" belongs to a block: write "block:" with the tasks it rescues',
      '7:7: unknown key "resuce" in a block (did you mean "rescue"?)',
      '8:13: meta: clear_host_errors is not supported: a failed host stops at its failure in plumb, so nothing is left to clear',
      '9:13: unknown meta action "flush_handler" (did you mean "flush_handlers"?)',
      '11:20: delegate_to: "mail2" is not supported yet: plumb delegates only to the control machine (delegate_to: localhost or 127.0.0.1)',
      '13:7: the task has "meta" and a module ("command"); split it into one task each',
      '17:17: invalid condition: unexpected end of expression',
      '20:7: "block" in handlers is not supported: plumb\'s handlers are single tasks',
    ]);
  });

  it('positions an error inside a block of an included file in that file', async () => {
    write('inc.yaml', [{ name: 'b', block: [{ name: 'x', copy: { dest: '/tmp/x', contnet: 'a' } }] }]);
    const pb = write('site.yaml', [{ hosts: 'all', tasks: [{ include_tasks: 'inc.yaml' }] }]);
    const r = await plumb(['validate', pb, ...inv()], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inc\.yaml:6:9: error: \[0\]\.block\[0\]\.copy\.contnet: unknown key "contnet"/);
  });

  it('--list-tasks lists a block’s tasks, not its rescue or always (as ansible-playbook)', async () => {
    const pb = write('site.yaml', [
      {
        name: 'p',
        hosts: 'all',
        tasks: [{ block: [{ name: 'in block', command: 'true' }], rescue: [{ name: 'in rescue', command: 'true' }], always: [{ name: 'in always', command: 'true' }] }],
      },
    ]);
    const r = await plumb(['plan', pb, ...inv(), '--list-tasks'], env);
    expect(r.stdout).toMatch(/in block/);
    expect(r.stdout).not.toMatch(/in rescue|in always/);
  });
});

describe('the editor schema (plumb schema playbook)', () => {
  it('accepts blocks, nested blocks and meta tasks; rejects a misspelt section', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(jsonSchema('playbook'));
    const cases = parse(readFileSync('test/fixtures/ansible/blocks/cases.yml', 'utf8'));
    expect(validate(cases), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(validate([{ hosts: 'all', tasks: [{ block: [{ command: 'true' }], resuce: [] }] }])).toBe(false);
  });
});

describe('plans', () => {
  it('say which rescue tasks may run, and where handlers flush, in text, markdown and JSON', async () => {
    const pb = write('site.yaml', [
      {
        name: 'p',
        hosts: 'all',
        pre_tasks: [{ name: 'pre', copy: { dest: join(dir, 'pre'), content: 'p\n' }, notify: 'h' }],
        tasks: [
          {
            name: 'guard',
            block: [{ name: 'try', copy: { dest: join(dir, 'a'), content: 'a\n' }, notify: 'h' }],
            rescue: [{ name: 'repair', copy: { dest: join(dir, 'r'), content: 'r\n' } }],
          },
          { meta: 'flush_handlers' },
        ],
        handlers: [{ name: 'h', command: 'true' }],
      },
    ]);
    const text = await plumb(['plan', pb, ...inv()], env);
    expect(text.stdout).toMatch(/\? repair — may run \(if a task of block "guard" fails\): would change/);
    expect(text.stdout).toMatch(/! handler h — will run after pre_tasks because pre changes/);
    expect(text.stdout).toMatch(/! handler h — will run at "meta: flush_handlers" because try changes/);
    // The rescue task's change is not counted: 2 changes (pre, try).
    expect(text.stdout).toMatch(/Plan: 1 host, 2 changes on 1 host/);
    const json = JSON.parse((await plumb(['plan', pb, ...inv(), '--format', 'json'], env)).stdout);
    const host = json.hosts[0];
    expect(host.tasks.find((t: { name: string }) => t.name === 'repair').runs_if).toBe('a task of block "guard" fails');
    expect(host.handlers.map((h: { at: string }) => h.at)).toEqual(['after pre_tasks', 'at "meta: flush_handlers"']);
    const md = await plumb(['plan', pb, ...inv(), '--format', 'markdown'], env);
    expect(md.stdout).toMatch(/- \*\*repair\*\* — may run \(if a task of block "guard" fails\): would change/);
    expect(md.stdout).toMatch(/- \*\*h\*\* will run at "meta: flush_handlers" because try changes/);
    expect(existsSync(join(dir, 'a'))).toBe(false);
  });

  it('a plan after meta: end_host skips the rest; one with run_once shows it on the first host only', async () => {
    write('inventory.yaml', { all: { hosts: { one: { connection: 'local' }, two: { connection: 'local' } } } });
    const pb = write('site.yaml', [
      {
        name: 'p',
        hosts: 'all',
        tasks: [
          { name: 'once', copy: { dest: join(dir, 'once'), content: 'o\n' }, run_once: true },
          { name: 'stop', meta: 'end_host', when: "inventory_hostname == 'two'" },
          { name: 'later', copy: { dest: join(dir, 'later-{{ inventory_hostname }}'), content: 'l\n' } },
        ],
      },
    ]);
    const json = JSON.parse((await plumb(['plan', pb, ...inv(), '--format', 'json'], env)).stdout);
    const [one, two] = json.hosts;
    expect(one.tasks.map((t: { outcome: string }) => t.outcome)).toEqual(['change', 'skipped', 'change']);
    expect(two.tasks.map((t: { outcome: string; reason?: string }) => `${t.outcome} ${t.reason ?? ''}`.trim())).toEqual([
      'skipped run_once: runs on one only',
      'ok meta: end_host',
      'skipped the host ends at "stop"',
    ]);
  });

  it('a rescue whose block cannot fail is skipped; one after a change may still run', async () => {
    write('ready', 'yes\n');
    const guarded = (name: string, before: unknown[]) => ({
      name,
      hosts: 'all',
      tasks: [
        ...before,
        {
          name: 'guard',
          block: [{ name: 'check', command: `test -f ${join(dir, 'ready')}`, changed_when: false }],
          rescue: [{ name: 'repair', command: 'true', notify: 'h' }],
        },
      ],
      handlers: [{ name: 'h', command: 'true' }],
    });
    const clean = write('clean.yaml', [guarded('clean', [])]);
    const plan = await plumb(['plan', clean, ...inv(), '--format', 'json'], env);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const repair = JSON.parse(plan.stdout).hosts[0].tasks.find((t: { name: string }) => t.name === 'repair');
    expect(repair).toMatchObject({ outcome: 'skipped', reason: 'rescue: no task of block "guard" fails (plan read them all, nothing before them changes)' });
    const after = write('after.yaml', [guarded('after', [{ name: 'first', copy: { dest: join(dir, 'x'), content: 'x\n' } }])]);
    const text = await plumb(['plan', after, ...inv()], env);
    expect(text.stdout).toMatch(/\? repair — may run \(if a task of block "guard" fails\): would change/);
  });

  it('run_once with register: a host that does not run it plans what reads the result as depending on it', async () => {
    write('inventory.yaml', { all: { hosts: { one: { connection: 'local' }, two: { connection: 'local' } } } });
    const pb = write('site.yaml', [
      {
        name: 'p',
        hosts: 'all',
        tasks: [
          { name: 'who', command: 'echo {{ inventory_hostname }}', register: 'who', run_once: true, changed_when: false },
          { name: 'saw', copy: { dest: join(dir, 'saw-{{ inventory_hostname }}'), content: '{{ who.stdout }}\n' } },
        ],
      },
    ]);
    const json = JSON.parse((await plumb(['plan', pb, ...inv(), '--format', 'json'], env)).stdout);
    const [one, two] = json.hosts;
    expect(one.tasks.map((t: { outcome: string }) => t.outcome)).toEqual(['ok', 'change']);
    expect(two.tasks.map((t: { outcome: string; reason?: string }) => `${t.outcome} ${t.reason ?? ''}`.trim())).toEqual([
      'skipped run_once: runs on one only',
      'may-change depends on "who" (run once, on one)',
    ]);
    expect((await plumb(['apply', pb, ...inv()], env)).code).toBe(0);
    expect(readFileSync(join(dir, 'saw-two'), 'utf8')).toBe('one\n');
  });

  it('run_once with register: a secret result stays hidden on the hosts that take it', async () => {
    write('inventory.yaml', { all: { hosts: { one: { connection: 'local' }, two: { connection: 'local' } } } });
    const pb = write('site.yaml', [
      {
        name: 'p',
        hosts: 'all',
        secrets: { token: '{{ env.ONCE_TOKEN }}' },
        tasks: [
          // Output computed from the secret, not the secret itself: only the host that ran it saw it.
          { name: 'read', shell: 'echo {{ token }} | tr a-z b-za', register: 'got', run_once: true, changed_when: false },
          { name: 'show', shell: 'echo "{{ got.stdout }}" >&2; exit 1', when: "inventory_hostname == 'two'" },
        ],
      },
    ]);
    const r = await plumb(['apply', pb, ...inv()], { ...env, ONCE_TOKEN: 'once-secret-7f3a' });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/two: FAILED show/);
    expect(r.stdout + r.stderr).not.toContain('once-secret-7f3a');
    expect(r.stdout + r.stderr).not.toContain('podf-tfdsfu-7g3b');
  });
});

describe('apply', () => {
  it('a handler run at a flush point is no longer owed when a later task fails; one notified after is', async () => {
    const pb = write('site.yaml', [
      {
        name: 'p',
        hosts: 'all',
        tasks: [
          { name: 'first', copy: { dest: join(dir, 'first'), content: '1\n' }, notify: 'a' },
          { meta: 'flush_handlers' },
          { name: 'second', copy: { dest: join(dir, 'second'), content: '2\n' }, notify: 'b' },
          { name: 'breaks', command: 'false' },
        ],
        handlers: [
          { name: 'a', shell: `echo a >> ${join(dir, 'log')}` },
          { name: 'b', shell: `echo b >> ${join(dir, 'log')}` },
        ],
      },
    ]);
    const r = await plumb(['apply', pb, ...inv()], env);
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('a\n');
    const plan = await plumb(['plan', pb, ...inv()], env);
    expect(plan.stdout).toMatch(/handler b — will run at "meta: flush_handlers" because an earlier run changed/);
    expect(plan.stdout).not.toMatch(/handler a —/);
  });

  it('meta: end_host stops the host without failing it, and its notified handlers do not run (as Ansible)', async () => {
    const pb = write('site.yaml', [
      {
        hosts: 'all',
        tasks: [{ name: 'c', copy: { dest: join(dir, 'c'), content: 'c\n' }, notify: 'h' }, { meta: 'end_host' }, { name: 'n', copy: { dest: join(dir, 'n'), content: 'n\n' } }],
        handlers: [{ name: 'h', copy: { dest: join(dir, 'h'), content: 'h\n' } }],
      },
    ]);
    const r = await plumb(['apply', pb, ...inv()], env);
    expect(r.code, r.stderr).toBe(0);
    expect([existsSync(join(dir, 'c')), existsSync(join(dir, 'n')), existsSync(join(dir, 'h'))]).toEqual([true, false, false]);
  });
});

describe('blocks with loops, register and facts (issue 13 together)', () => {
  it('a loop that fails inside a block is rescued, the rescue reads the registered result, always runs; the next plan changes only the commands', async () => {
    const log = join(dir, 'log');
    const pb = write('site.yaml', [
      {
        hosts: 'all',
        tasks: [
          { name: 'read', command: 'echo ready', register: 'probe', changed_when: false },
          {
            name: 'guarded',
            vars: { marker: join(dir, 'fixed') },
            block: [
              { name: 'items', copy: { dest: `${dir}/{{ item }}`, content: '{{ item }} on {{ ansible_system }}\n' }, loop: ['one', 'two'], notify: 'h' },
              { meta: 'flush_handlers' },
              { name: 'breaks', shell: 'test -e {{ marker }}', register: 'check', failed_when: 'check.rc != 0 and probe.stdout == "ready"' },
            ],
            rescue: [{ name: 'repair', copy: { dest: join(dir, 'fixed'), content: 'fixed after rc {{ check.rc }}\n' }, when: 'check.rc != 0' }],
            always: [{ name: 'always', shell: `echo always >> ${log}` }],
          },
        ],
        handlers: [{ name: 'h', shell: `echo handler >> ${log}` }],
      },
    ]);
    const first = await plumb(['apply', pb, ...inv()], env);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(join(dir, 'one'), 'utf8')).toBe('one on Linux\n');
    expect(readFileSync(join(dir, 'two'), 'utf8')).toBe('two on Linux\n');
    expect(readFileSync(join(dir, 'fixed'), 'utf8')).toBe('fixed after rc 1\n');
    // The handler ran at the flush point, before the failing task; always ran after the rescue.
    expect(readFileSync(log, 'utf8')).toBe('handler\nalways\n');
    const plan = await plumb(['plan', pb, ...inv()], env);
    // Exit 2: changes planned (the two commands run again, as with Ansible).
    expect(plan.code, plan.stderr).toBe(2);
    expect(first.stdout + first.stderr).toMatch(/items \(one\)/);
    expect(plan.stdout).not.toMatch(/items \(/);
    expect(plan.stdout).toMatch(/2 changes on 1 host/);
    expect(plan.stdout).toMatch(/repair .*may run \(if a task of block "guarded" fails\)/);
  });
});

/** The engine in process with a transport wrapper that injects a fault. */
async function applyWith(pb: string, wrap: (t: Transport) => Transport) {
  const project = await loadProject({ playbookPath: pb, inventoryPath: join(dir, 'inventory.yaml'), extraVars: {} });
  const play = project.playbook.plays[0];
  const host = project.inventory.hosts.get('here')!;
  const scope = hostScope(project, play, host, env);
  const ctx = moduleContext(scope, dir);
  const transport = wrap(await openTransport(host, { localEnv: { ...process.env, ...env } }));
  try {
    const pending = pendingKeys(project.playbook, play);
    const planned = await planTasks({ transport, play, scope, ctx, pending });
    return await applyHost({ transport, play, scope, ctx, planned, pending });
  } finally {
    await transport.close();
  }
}

describe('faults', () => {
  it('ignore_unreachable: a lost connection during that task is ignored and the next task runs', async () => {
    mkdirSync(join(dir, 'out'));
    const pb = write('site.yaml', [
      {
        hosts: 'all',
        tasks: [
          { name: 'flaky', command: 'echo flaky', ignore_unreachable: true },
          { name: 'after', copy: { dest: join(dir, 'out', 'after'), content: 'a\n' } },
        ],
      },
    ]);
    const r = await applyWith(pb, (t) => {
      const exec = t.exec.bind(t);
      return Object.assign(Object.create(t), {
        exec: (command: string, opts: Parameters<Transport['exec']>[1]) =>
          command.includes('echo flaky') ? Promise.reject(new UnreachableError('connection lost', 'here')) : exec(command, opts),
      });
    });
    expect(r.failed).toBe(false);
    expect(r.results.map((x) => `${x.name} ${x.status}${x.ignored ? ' ignored' : ''}`)).toEqual(['flaky failed ignored', 'after changed']);
    expect(r.results[0].error).toMatch(/^unreachable: .*connection lost/);
  });

  it('run_once: a later host takes over when the first finished before reaching the task, and waits for one that is on its way', async () => {
    const batch = new BatchState(['one', 'two', 'three']);
    batch.hostFinished('one');
    const ran: string[] = [];
    const run = (host: string) => async () => {
      ran.push(host);
      return { name: 't', status: 'changed' as const, changes: [] };
    };
    const [two, three] = await Promise.all([batch.runOnce(0, 'two', run('two')), batch.runOnce(0, 'three', run('three'))]);
    expect(ran).toEqual(['two']);
    expect(two.ranOn).toBeUndefined();
    expect(three).toMatchObject({ ranOn: 'two', result: { status: 'changed' } });
  });

  it('lock-step: no host starts a task before every other finished the ones before it', async () => {
    const batch = new BatchState(['one', 'two'], true);
    const events: string[] = [];
    const host = async (name: string, delays: number[]) => {
      for (const [i, ms] of delays.entries()) {
        await batch.reach(name, i);
        events.push(`${name} starts ${i}`);
        await new Promise((r) => setTimeout(r, ms));
      }
      batch.hostFinished(name);
    };
    await Promise.all([host('one', [1, 1, 1]), host('two', [30, 1, 1])]);
    expect(events.indexOf('one starts 1')).toBeGreaterThan(events.indexOf('two starts 0'));
    expect(events.slice(2).filter((e) => e.endsWith(' 1'))).toHaveLength(2);
    expect(events.slice(0, 2).sort()).toEqual(['one starts 0', 'two starts 0']);
  });
});
