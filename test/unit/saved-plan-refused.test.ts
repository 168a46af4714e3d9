/**
 * A host refused as stale when a saved plan is applied is out of the run, as a failed host is:
 * it must not go on to change anything in a later play of the same plan (it was reviewed as a
 * whole; a host whose state moved under the first play is not the host the reviewer saw).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../in-process.js';

let d: string;
beforeEach(() => {
  d = mkdtempSync(join(tmpdir(), 'plumb-refused-'));
});
afterEach(() => rmSync(d, { recursive: true, force: true }));

describe('apply PLAN.json with a stale host', () => {
  it('refuses the host in its play and leaves it out of every later play', async () => {
    writeFileSync(join(d, 'inventory.yml'), 'all:\n  hosts:\n    here: { connection: local }\n');
    const first = join(d, 'first.conf');
    const second = join(d, 'second.conf');
    writeFileSync(first, 'old\n');
    writeFileSync(
      join(d, 'site.yml'),
      `- name: one\n  hosts: all\n  tasks:\n    - copy: { dest: ${first}, content: "new\\n" }\n- name: two\n  hosts: all\n  tasks:\n    - copy: { dest: ${second}, content: "two\\n" }\n`,
    );
    const env = { PATH: process.env.PATH, HOME: d, PLUMB_STATE_DIR: join(d, 'state') };
    const saved = join(d, 'plan.json');
    const plan = await runCli(['plan', join(d, 'site.yml'), '-i', join(d, 'inventory.yml'), '-o', saved], env);
    expect(plan.code, plan.stderr).toBe(2);
    // The host moves under the plan: play one's task is now stale.
    writeFileSync(first, 'changed behind the plan\n');
    const apply = await runCli(['apply', saved], env);
    expect(apply.code).not.toBe(0);
    expect(apply.stderr).toContain('refused (stale plan): here');
    expect(readFileSync(first, 'utf8')).toBe('changed behind the plan\n');
    expect(existsSync(second)).toBe(false);
  });
});
