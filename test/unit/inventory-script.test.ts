/**
 * Executable inventory scripts that go wrong: each is a clear error at the
 * script, and nothing the script printed is quoted back (it may hold passwords).
 * Agreement with ansible-inventory on good scripts is in ansible-inventory.test.ts.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-inventory-script-'));
function script(name: string, body: string, mode = 0o755): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  chmodSync(p, mode);
  return p;
}
const inventory = (path: string) => runCli(['inventory', '-i', path, '--list'], { PATH: process.env.PATH });

describe('inventory scripts', () => {
  it('output that is not JSON: where, never what', async () => {
    const p = script('garbage.sh', '#!/bin/sh\necho \'{"web": ["a"], ansible_password: hunter2-secret}\'\n');
    const r = await inventory(p);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:1:1: error: inventory script: --list printed output that is not JSON (at offset 15)`);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('a failing script: its exit status and its own last stderr line', async () => {
    const p = script('fails.sh', '#!/bin/sh\necho "cannot reach the cloud API" >&2\nexit 3\n');
    const r = await inventory(p);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:1:1: error: inventory script: ${p} --list failed: it exited with status 3: cannot reach the cloud API`);
  });

  it('bad shapes: hosts not a list, a JSON array, bad host vars', async () => {
    const hosts = script('hosts.sh', `#!/bin/sh\necho '{"web": {"hosts": "a,b"}}'\n`);
    expect((await inventory(hosts)).stderr).toContain('inventory script: group "web": "hosts" must be a list of host names');
    const array = script('array.sh', `#!/bin/sh\necho '["a"]'\n`);
    expect((await inventory(array)).stderr).toContain('inventory script: --list must print a JSON object of groups (and _meta)');
    const vars = script('vars.sh', `#!/bin/sh\necho '{"web": ["a"], "_meta": {"hostvars": {"a": [1]}}}'\n`);
    expect((await inventory(vars)).stderr).toContain('inventory script: the variables of host "a" must be a mapping');
  });

  it('an INI file that merely has the executable bit is read as INI', async () => {
    const p = script('hosts', '[web]\nweb1 port=8080\n');
    const r = await inventory(p);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ web: { hosts: ['web1'] }, _meta: { hostvars: { web1: { port: 8080 } } } });
  });
});
