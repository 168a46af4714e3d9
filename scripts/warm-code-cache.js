// npm run build, last step (called by scripts/bundle.ts): runs the bundle the way a user does —
// validate the seed playbook, plan a local-connection playbook (read-only: one stat of a path
// in a scratch directory), load the ssh transport — then writes V8's code cache beside the
// bundle when the process exits, holding every function those compiled. Plain node, no
// loader hooks: V8 accepts a cache only under the flags it was made with.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCached } from '../bin/code-cache.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = loadCached(join(root, 'dist', 'bundle', 'plumb.cjs'), { writeCache: true });
const quiet = { stdout() {}, stderr() {}, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
const scratch = mkdtempSync(join(tmpdir(), 'plumb-warm-'));
try {
  writeFileSync(join(scratch, 'inventory.yaml'), 'all:\n  hosts:\n    here:\n      connection: local\n');
  writeFileSync(join(scratch, 'site.yaml'), `- hosts: all\n  tasks:\n    - name: a directory\n      file: { path: ${JSON.stringify(join(scratch, 'made'))}, state: directory }\n`);
  const runs = [
    [['validate', join(root, 'playbooks/postfix-gmail-relay.yaml'), '-i', join(root, 'inventory.example.yaml')], 0],
    [['plan', join(scratch, 'site.yaml'), '-i', join(scratch, 'inventory.yaml')], 2],
  ];
  for (const [argv, expected] of runs) {
    const code = await cli.run(argv, quiet);
    if (code !== expected) throw new Error(`warm-up: plumb ${argv[0]} exited ${code}, expected ${expected}`);
  }
  await cli.loadSshTransport();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
