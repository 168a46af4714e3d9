/**
 * Engine tests on this machine: a scratch directory per test with plumb's state directory inside
 * it, and a playbook loaded as the CLI loads it against one host, "here" (connection local).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { stringify } from 'yaml';
import { hostScope } from '../src/config/hostvars.js';
import { loadProject } from '../src/config/project.js';
import { moduleContext } from '../src/engine/context.js';

/** A fresh directory for each test of the file (PLUMB_STATE_DIR is its `state`), removed after it. */
export function scratchDirPerTest(prefix: string): () => string {
  let dir = '';
  let saved: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    saved = process.env.PLUMB_STATE_DIR;
    process.env.PLUMB_STATE_DIR = join(dir, 'state');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.PLUMB_STATE_DIR;
    else process.env.PLUMB_STATE_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** `plays` written to dir/site.yaml and loaded for host "here": its first play, that host's scope and module context. */
export async function loadLocalPlay(dir: string, plays: unknown[], env: Record<string, string> = {}) {
  const playbook = join(dir, 'site.yaml');
  writeFileSync(playbook, stringify(plays));
  writeFileSync(join(dir, 'inventory.yaml'), stringify({ all: { hosts: { here: { connection: 'local' } } } }));
  const project = await loadProject({ playbookPath: playbook, inventoryPath: join(dir, 'inventory.yaml'), extraVars: {} });
  const play = project.playbook.plays[0];
  const scope = hostScope(project, play, project.inventory.hosts.get('here')!, env);
  return { project, play, scope, ctx: moduleContext(scope, dir) };
}
