/**
 * Start-up stays fast because a command's code loads only when it runs: `plumb --version`
 * loads no command, `validate` no ssh2 or listr2, a plan on a local host in a CI log neither.
 * Each case runs bin/plumb.js (from the sources) in a child process that records every module
 * it loads (test/module-trace.js); timings belong to `npm run bench`, not here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { commands } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-lazy-'));

/** The modules one run of plumb loaded, as paths inside the checkout or package names. */
function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; modules: string[]; stderr: string } {
  const trace = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', './test/module-trace.js', 'bin/plumb.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PLUMB_FROM_SOURCE: '1', MODULE_TRACE_FILE: trace, ...env },
    timeout: 60_000,
  });
  const modules = readFileSync(trace, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((url) => url.replace(/^.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, 'npm:$1').replace(/^file:\/\/.*?\/(src|bin)\//, '$1/'));
  return { code: r.status, modules: [...new Set(modules)], stderr: r.stderr };
}

const heavy = ['npm:ssh2', 'npm:listr2', 'npm:zod', 'npm:yaml', 'npm:diff', 'npm:ssh-config', 'npm:p-limit'];

describe('lazy loading', () => {
  it('--version and --help load no command, no schema library and no ssh', () => {
    for (const args of [['--version'], ['--help']]) {
      const r = loadedBy(args);
      expect(r.code).toBe(0);
      expect(r.modules).toContain('src/cli/main.ts'); // the trace works
      for (const m of [...heavy, 'src/cli/plan.ts', 'src/cli/apply.ts', 'src/cli/validate.ts', 'src/modules/index.ts', 'src/engine/run.ts'])
        expect(r.modules, `${args[0]} loaded ${m}`).not.toContain(m);
    }
  });

  it('validate loads the schemas and the parser, but neither ssh2 nor the terminal renderer', () => {
    const r = loadedBy(['validate', 'playbooks/postfix-gmail-relay.yaml', '-i', 'inventory.example.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.modules).toEqual(expect.arrayContaining(['npm:zod', 'npm:yaml', 'src/cli/validate.ts', 'src/modules/index.ts']));
    for (const m of ['npm:ssh2', 'npm:listr2', 'npm:ssh-config', 'npm:p-limit', 'src/cli/plan.ts', 'src/engine/run.ts', 'src/transport/ssh.ts'])
      expect(r.modules, `validate loaded ${m}`).not.toContain(m);
  });

  it('a plan of a local host in a CI log loads the engine but not ssh2 or listr2', () => {
    writeFileSync(join(dir, 'inventory.yaml'), stringify({ all: { hosts: { here: { connection: 'local' } } } }));
    writeFileSync(join(dir, 'site.yaml'), stringify([{ name: 'local', hosts: 'all', tasks: [{ name: 'a directory', file: { path: join(dir, 'made'), state: 'directory' } }] }]));
    const r = loadedBy(['plan', join(dir, 'site.yaml'), '-i', join(dir, 'inventory.yaml')], { CI: 'true' });
    expect(r.code, r.stderr).toBe(2); // changes pending: the directory does not exist
    expect(r.modules).toEqual(expect.arrayContaining(['src/engine/run.ts', 'src/transport/local.ts', 'src/report/plain.ts']));
    for (const m of ['npm:ssh2', 'npm:listr2', 'npm:ssh-config', 'src/transport/ssh.ts', 'src/report/terminal.ts']) expect(r.modules, `plan loaded ${m}`).not.toContain(m);
  });

  it("every command's entry loads the command it names", async () => {
    for (const entry of commands) expect((await entry.load()).name).toBe(entry.name);
  });
});
