/**
 * lookup('file'|'template') in a task's arguments reads the controller's files as Ansible's
 * lookups do (the playbook's files/ or templates/ directory first, then the playbook's own
 * directory), in validate, plan and apply alike; a missing file is an error at the argument.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plumb } from '../e2e/plumb.js';
import { writeIn } from '../write-file.js';

let dir: string;
let env: NodeJS.ProcessEnv;
const write = (name: string, data: unknown): string => writeIn(dir, name, data);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-lookup-args-'));
  env = { PLUMB_STATE_DIR: join(dir, 'state') };
  write('inventory.yaml', { all: { hosts: { here: { connection: 'local' } } } });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lookups in task arguments', () => {
  it('read files beside the playbook (files/ and templates/ first) in validate and apply', async () => {
    for (const sub of ['files', 'templates']) mkdirSync(join(dir, sub));
    write('files/banner.txt', 'from files/\n');
    write('motd.txt', 'beside the playbook\n');
    write('templates/greeting.j2', 'hello {{ who }}\n');
    const pb = write('site.yaml', [
      {
        hosts: 'all',
        vars: { who: 'relay' },
        tasks: [
          { name: 'banner', copy: { dest: join(dir, 'out-banner'), content: "{{ lookup('file', 'banner.txt') }}" } },
          { name: 'motd', copy: { dest: join(dir, 'out-motd'), content: "{{ lookup('ansible.builtin.file', 'motd.txt') }}" } },
          { name: 'greeting', copy: { dest: join(dir, 'out-greeting'), content: "{{ lookup('template', 'greeting.j2') }}" } },
        ],
      },
    ]);
    const validate = await plumb(['validate', pb, '-i', join(dir, 'inventory.yaml')], env);
    expect(validate.code, validate.stderr).toBe(0);
    const apply = await plumb(['apply', pb, '-i', join(dir, 'inventory.yaml')], env);
    expect(apply.code, apply.stderr).toBe(0);
    // As Ansible's file lookup, the trailing newline is stripped.
    expect(readFileSync(join(dir, 'out-banner'), 'utf8')).toBe('from files/');
    expect(readFileSync(join(dir, 'out-motd'), 'utf8')).toBe('beside the playbook');
    expect(readFileSync(join(dir, 'out-greeting'), 'utf8')).toBe('hello relay\n');
  });

  it("a template file's literal lookups are checked by validate and read at apply from the same places", async () => {
    for (const sub of ['files', 'templates']) mkdirSync(join(dir, sub));
    write('files/banner.txt', 'from files/\n');
    write('templates/relay.conf.j2', "banner = {{ lookup('file', 'banner.txt') }}\n");
    const pb = write('site.yaml', [{ hosts: 'all', tasks: [{ template: { src: 'relay.conf.j2', dest: join(dir, 'relay.conf') } }] }]);
    const validate = await plumb(['validate', pb, '-i', join(dir, 'inventory.yaml')], env);
    expect(validate.code, validate.stderr).toBe(0);
    const apply = await plumb(['apply', pb, '-i', join(dir, 'inventory.yaml')], env);
    expect(apply.code, apply.stderr).toBe(0);
    expect(readFileSync(join(dir, 'relay.conf'), 'utf8')).toBe('banner = from files/\n');
  });

  it('a missing file is an error at the argument, before any host is contacted', async () => {
    const pb = write('site.yaml', [{ hosts: 'all', tasks: [{ copy: { dest: join(dir, 'x'), content: "{{ lookup('file', 'nothere.txt') }}" } }] }]);
    const r = await plumb(['validate', pb, '-i', join(dir, 'inventory.yaml')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yaml:\d+:\d+: error: .*lookup\('file', 'nothere\.txt'\)/);
    expect(r.stderr).not.toMatch(/no local files here/);
  });
});
