/**
 * Roles, includes and listing on the corpus in test/fixtures/ansible/roles:
 * every role directory, meta dependencies, Ansible's variable precedence,
 * templates and files found by relative src, role handlers, import/include
 * with vars/when/tags, pre/post_tasks; bad cases with exact positioned messages.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { hostScope, taskScope } from '../../src/config/hostvars.js';
import type { Task } from '../../src/config/model.js';
import { loadProject, parseExtraVars } from '../../src/config/project.js';
import { moduleContext, taskContext } from '../../src/engine/context.js';
import { listedName } from '../../src/cli/list.js';

const dir = 'test/fixtures/ansible/roles';
const inventory = `${dir}/inventory.yaml`;

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t + '\n'), stderr: (t) => (stderr += t + '\n'), env: { PATH: process.env.PATH } });
  return { code, stdout, stderr };
}

const load = (playbook: string, extra: string[] = []) => loadProject({ playbookPath: `${dir}/${playbook}`, inventoryPath: inventory, extraVars: parseExtraVars(extra) });
const byName = (tasks: Task[], name: string) => {
  const found = tasks.filter((t) => listedName(t) === name);
  expect(found.length, name).toBe(1);
  return found[0];
};

describe('bad role and include fixtures', () => {
  const bad = `${dir}/bad`;
  const cases = readdirSync(bad)
    .filter((f) => f.endsWith('.playbook.yaml'))
    .map((f) => f.replace(/\.playbook\.yaml$/, ''));

  it('has a case per error class', () => expect(cases.length).toBeGreaterThanOrEqual(11));

  it.each(cases)('%s fails with its positioned messages', async (name) => {
    const { code, stdout, stderr } = await cli(['validate', `${bad}/${name}.playbook.yaml`, '-i', inventory]);
    const expected = readFileSync(`${bad}/${name}.expected`, 'utf8').trim().split('\n');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter((l) => /^\S+:\d+:\d+: (error|warning): /.test(l))).toEqual(expected);
    expect(stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});

describe('roles', () => {
  it('runs pre_tasks, roles (dependencies first, each once), tasks, post_tasks in order', async () => {
    const project = await load('site.yml');
    expect(project.playbook.plays[0].tasks.map(listedName)).toEqual([
      'before anything',
      'common : create the common directory',
      'common : write the message of the day',
      'common : copy the banner',
      'base_dirs : create the base directory',
      'web : write the site configuration',
      'web : write the extra file',
      // app depends on common, which already ran in this play.
      'app : write the app file',
      'a task of the play',
      'shared task one',
      'nested task',
      'app : alternative app entry',
      'base_dirs : create the base directory',
      'after everything',
    ]);
    // The role's handlers join the play's.
    expect(project.playbook.plays[0].handlers.map((h) => h.name)).toEqual(['play handler', 'common changed', 'restart app']);
  });

  it('runs a role again when its parameters differ, and a shared dependency once', async () => {
    const project = await load('dedupe.yml');
    expect(project.playbook.plays[0].tasks.map(listedName)).toEqual([
      'common : create the common directory',
      'common : write the message of the day',
      'common : copy the banner',
      'app : write the app file',
      'app : write the app file',
    ]);
    const [first, second] = project.playbook.plays[0].tasks.slice(3);
    const scope = hostScope(project, project.playbook.plays[0], project.inventory.hosts.get('db1')!, {});
    expect(taskScope(scope, first).render('{{ app_name }}')).toBe('default-app');
    expect(taskScope(scope, second).render('{{ app_name }}')).toBe('second');
  });

  it('follows Ansible precedence: defaults < inventory < play vars < role vars < role params < include params < -e', async () => {
    const project = await load('precedence.yml');
    const play = project.playbook.plays[0];
    const scope = hostScope(project, play, project.inventory.hosts.get('web1')!, {});
    const common = taskScope(scope, byName(play.tasks, 'common : create the common directory'));
    expect(common.render('{{ motd_owner }}')).toBe('inventory-owner'); // inventory beats role defaults
    expect(common.render('{{ site_name }}')).toBe('role-vars-site'); // role vars beat play vars and inventory
    expect(common.render('{{ common_dir }}')).toBe('/srv/common'); // defaults when nothing else sets it
    const app = taskScope(scope, byName(play.tasks, 'app : write the app file'));
    expect(app.render('{{ app_name }}')).toBe('param-app'); // role params beat defaults
    expect(app.render('{{ app_port }}')).toBe(2000); // role vars beat defaults
    expect(app.render('{{ greeting }}')).toBe('hello from defaults'); // a dependency's defaults are seen
    const shared = taskScope(scope, byName(play.tasks, 'shared task one'));
    expect(shared.render('{{ shared_dir }}')).toBe('/srv/include-param');
    expect(shared.render('{{ site_name }} {{ from_play }}')).toBe('play-site play'); // role vars stay in their role
    expect(() => shared.render('{{ app_port }}')).toThrow(/undefined variable "app_port"/);

    const overridden = await load('precedence.yml', ['app_name=cli', 'motd_owner=cli-owner', 'shared_dir=/cli']);
    const p2 = overridden.playbook.plays[0];
    const s2 = hostScope(overridden, p2, overridden.inventory.hosts.get('web1')!, {});
    expect(taskScope(s2, byName(p2.tasks, 'app : write the app file')).render('{{ app_name }}')).toBe('cli');
    expect(taskScope(s2, byName(p2.tasks, 'common : create the common directory')).render('{{ motd_owner }}')).toBe('cli-owner');
    expect(taskScope(s2, byName(p2.tasks, 'shared task one')).render('{{ shared_dir }}')).toBe('/cli');
  });

  it("finds a role task's relative src in its templates/ and files/, rendered with the role's variables", async () => {
    const project = await load('precedence.yml');
    const play = project.playbook.plays[0];
    const scope = hostScope(project, play, project.inventory.hosts.get('web1')!, {});
    const ctx = moduleContext(scope, dir);
    const motd = byName(play.tasks, 'common : write the message of the day');
    const tctx = taskContext(ctx, motd);
    expect(tctx.render(tctx.readLocal('motd.j2').toString())).toBe('hello from defaults on web1\nsite: role-vars-site\nowner: inventory-owner\n');
    const banner = taskContext(ctx, byName(play.tasks, 'common : copy the banner'));
    expect(banner.readLocal('banner.txt').toString()).toMatch(/^This host is managed by plumb/);
    // A task of the playbook itself keeps reading relative to the playbook.
    expect(() => ctx.readLocal('motd.j2')).toThrow(/motd\.j2/);
  });

  it('gives imported tasks the include’s tags, when and vars, and positions them in their own file', async () => {
    const project = await load('includes.yml');
    const tasks = project.playbook.plays[0].tasks;
    expect(tasks.map((t) => [t.name, t.tags, t.when ?? null])).toEqual([
      ['shared task one', ['a'], "inventory_hostname != 'db1'"],
      ['nested task', ['a', 'nested'], "inventory_hostname != 'db1'"],
      ['nested task', ['b', 'nested'], null],
      ['plain', [], null],
    ]);
    expect(tasks[1].pos.file).toBe(`${dir}/tasks/nested.yml`);
    expect(tasks[1].pos.line).toBe(1);
    const scope = hostScope(project, project.playbook.plays[0], project.inventory.hosts.get('db1')!, {});
    expect(taskScope(scope, tasks[1]).render('{{ shared_dir }}')).toBe('/srv/a');
    expect(taskScope(scope, tasks[2]).render('{{ shared_dir }}')).toBe('/srv/b');
    expect(taskScope(scope, tasks[0]).condition(tasks[0].when!)).toBe(false);
  });

  it('validates the corpus and counts the expanded tasks', async () => {
    const r = await cli(['validate', `${dir}/site.yml`, '-i', inventory]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 play, 14 tasks, 3 handlers, 2 hosts');
  });

  it('looks for roles in --roles-path after roles/ beside the playbook', async () => {
    const r = await cli(['validate', `${dir}/elsewhere/uses-path.yml`, '-i', inventory]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/role "base_dirs" not found; looked in .*elsewhere\/roles\/base_dirs, .*elsewhere\/base_dirs/);
    const ok = await cli(['validate', `${dir}/elsewhere/uses-path.yml`, '-i', inventory, '--roles-path', `/nonexistent:${dir}/roles`]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});

describe('listing and --start-at-task (no host contacted)', () => {
  it('lists hosts, tasks and tags as ansible-playbook does', async () => {
    const r = await cli(['plan', `${dir}/includes.yml`, '-i', inventory, '--list-hosts', '--list-tasks', '--list-tags']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '',
        `playbook: ${dir}/includes.yml`,
        '',
        '  play #1 (all): all\tTAGS: []',
        "    pattern: ['all']",
        '    hosts (3):',
        '      web1',
        '      web2',
        '      db1',
        '    tasks:',
        '      shared task one\tTAGS: [a]',
        '      nested task\tTAGS: [a, nested]',
        '      nested task\tTAGS: [b, nested]',
        '      plain\tTAGS: []',
        '      TASK TAGS: [a, b, nested]',
        '',
        '',
      ].join('\n'),
    );
  });

  it('applies --tags and --limit to the listing', async () => {
    const r = await cli(['apply', `${dir}/site.yml`, '-i', inventory, '--list-tasks', '--list-hosts', '--tags', 'motd', '--limit', 'web2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('    hosts (1):\n      web2\n    tasks:\n      common : write the message of the day\tTAGS: [motd]\n      common : copy the banner\tTAGS: [motd]\n');
  });

  it('--start-at-task skips everything before the first task of that name, across plays', async () => {
    const r = await cli(['plan', `${dir}/start.yml`, '-i', inventory, '--list-tasks', '--start-at-task', 'base_dirs : create the base directory']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('first play\tTAGS: []\n    tasks:\n\n  play #2');
    expect(r.stdout).toContain('    tasks:\n      base_dirs : create the base directory\tTAGS: []\n      late\tTAGS: []\n');
    const plain = await cli(['plan', `${dir}/start.yml`, '-i', inventory, '--list-tasks', '--start-at-task', 'late']);
    expect(plain.stdout).toContain('    tasks:\n      late\tTAGS: []\n');
    const missing = await cli(['plan', `${dir}/start.yml`, '-i', inventory, '--list-tasks', '--start-at-task', 'lately']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--start-at-task "lately": no task has this name (did you mean "late"?)');
    const saved = await cli(['plan', `${dir}/start.yml`, '-i', inventory, '--start-at-task', 'late', '--out', '/nonexistent/plan.json']);
    expect(saved.code).toBe(1);
    expect(saved.stderr).toContain('--start-at-task cannot be saved in a plan (--out)');
  });
});
