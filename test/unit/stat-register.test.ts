/**
 * stat with `register:` (issue 15): its fact is read in the plan's one probe batch, so a later
 * `when: x.stat.exists` and templates over `x.stat` are decided at plan time (connection: local),
 * and apply registers the same dict.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShellTransport } from '../../src/transport/base-transport.js';
import { runCli } from '../in-process.js';
import { writeIn } from '../write-file.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-stat-'));
  env = { PATH: process.env.PATH, PLUMB_STATE_DIR: join(dir, 'state') };
  writeIn(dir, 'inventory.yaml', { all: { hosts: { here: { connection: 'local' } } } });
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});
const cli = (...args: string[]) => runCli([...args, '-i', join(dir, 'inventory.yaml')], env);

type PlannedTask = { name: string; outcome: string; reason?: string; changes: Array<{ diff?: string }> };

describe('stat registered at plan time', () => {
  it('decides when: x.stat.exists and renders x.stat in the plan, and a when over it costs no extra round trip', async () => {
    writeIn(dir, 'src', 'x\n');
    chmodSync(join(dir, 'src'), 0o640);
    const pb = writeIn(dir, 'site.yaml', [
      {
        name: 'local',
        hosts: 'all',
        tasks: [
          { name: 'look', stat: { path: join(dir, 'src') }, register: 'st' },
          { name: 'missing', stat: { path: join(dir, 'nope') }, register: 'gone' },
          { name: 'seen', copy: { dest: join(dir, 'out'), content: '{{ st.stat.mode }} {{ st.stat.checksum }} {{ gone.stat.exists }}\n' }, when: 'st.stat.exists' },
          { name: 'never', copy: { dest: join(dir, 'never'), content: 'x\n' }, when: 'gone.stat.exists' },
        ],
      },
    ]);
    const gatedOnly = writeIn(dir, 'gated.yaml', [
      {
        name: 'local',
        hosts: 'all',
        tasks: [
          { name: 'look', stat: { path: join(dir, 'src') }, register: 'st' },
          { name: 'gated', copy: { dest: join(dir, 'gated'), content: 'g\n' }, when: 'st.stat.exists and st.stat.mode == "0640"' },
        ],
      },
    ]);
    const plain = writeIn(dir, 'plain.yaml', [{ name: 'local', hosts: 'all', tasks: [{ name: 'one', copy: { dest: join(dir, 'one'), content: 'x\n' } }] }]);
    const execs = vi.spyOn(ShellTransport.prototype, 'exec');
    expect((await cli('plan', plain)).code).toBe(2);
    const plainTrips = execs.mock.calls.length;
    execs.mockClear();
    // A when over what stat read costs nothing more; arguments rendered from it take one more round (as for a read-only command).
    expect((await cli('plan', gatedOnly)).stdout).toMatch(/~ gated/);
    expect(execs.mock.calls.length, 'the round trips of a plain plan').toBe(plainTrips);
    const r = await cli('plan', pb, '--format', 'json');
    expect(r.code, r.stderr).toBe(2);
    const tasks = (JSON.parse(r.stdout) as { hosts: Array<{ tasks: PlannedTask[] }> }).hosts[0].tasks;
    const by = (name: string) => tasks.find((t) => t.name === name)!;
    expect(by('look').outcome).toBe('ok');
    expect(by('seen').outcome).toBe('change');
    // sha1 of "x\n": the plan already holds what stat read.
    expect(by('seen').changes[0].diff).toContain('+0640 6fcf9dfbd479ed82697fee719b9f8c610a11ff2a False');
    expect(by('never').outcome).toBe('skipped');

    const apply = await cli('apply', pb);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('0640 6fcf9dfbd479ed82697fee719b9f8c610a11ff2a False\n');
    expect(existsSync(join(dir, 'never'))).toBe(false);
    const again = await cli('plan', pb);
    expect(again.code, again.stdout).toBe(0);
  });

  it('at apply, after an earlier task changed the path, stat reads it again', async () => {
    const pb = writeIn(dir, 'site.yaml', [
      {
        name: 'local',
        hosts: 'all',
        tasks: [
          { name: 'make', copy: { dest: join(dir, 'made'), content: 'm\n', mode: '0600' } },
          { name: 'look', stat: { path: join(dir, 'made') }, register: 'st' },
          { name: 'record', copy: { dest: join(dir, 'record'), content: '{{ st.stat.exists }} {{ st.stat.mode }}\n' } },
        ],
      },
    ]);
    const plan = await cli('plan', pb);
    expect(plan.stdout).toMatch(/depends on "look" \(it reads again after "make" changes the host\)/);
    const apply = await cli('apply', pb);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(readFileSync(join(dir, 'record'), 'utf8')).toBe('True 0600\n');
  });
});
