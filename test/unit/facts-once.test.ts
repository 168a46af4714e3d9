/**
 * The planner reads each distinct fact once per host, in one script, however
 * many tasks need it; apply reads again only the facts of the task it is
 * about to run. Driven in process through the real engine and a local
 * transport that records every script it runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyHost } from '../../src/engine/applier.js';
import { pendingKeys } from '../../src/engine/pending.js';
import { planTasks } from '../../src/engine/planner.js';
import { loadLocalPlay, scratchDirPerTest } from '../local-project.js';
import { RecordingTransport } from '../recording-transport.js';

const scratch = scratchDirPerTest('plumb-facts-once-');
let dir: string;
beforeEach(() => (dir = scratch()));

/** How many fact snippets read `path` in a probe script (each starts by naming its path). */
function reads(script: string, path: string): number {
  return script.split('\n').filter((l) => l === `p=${path}`).length;
}

describe('facts are read once per host', () => {
  it('two lineinfile tasks on one file share one read; file on the same path (attributes only) is its own fact', async () => {
    const conf = join(dir, 'app.conf');
    writeFileSync(conf, 'a=0\n');
    const tasks = [
      { name: 'first', lineinfile: { path: conf, regexp: '^a=', line: 'a=1' } },
      { name: 'second', lineinfile: { path: conf, line: 'b=2' } },
      { name: 'mode', file: { path: conf, mode: '0640' } },
    ];
    const { project, play, scope, ctx } = await loadLocalPlay(dir, [{ name: 'once', hosts: 'all', tasks }], { PLUMB_STATE_DIR: join(dir, 'state') });
    const transport = new RecordingTransport();
    try {
      const pending = pendingKeys(project.playbook, play);
      const planned = await planTasks({ transport, play, scope, ctx, pending });
      expect(transport.scripts).toHaveLength(1);
      // One read with content for both lineinfile tasks, one attributes-only read for file.
      expect(reads(transport.scripts[0], conf)).toBe(2);
      expect(transport.scripts[0].match(/base64 -w 0; echo; fi/g)).toHaveLength(1);
      expect(planned.tasks.map((t) => t.changes.map((c) => c.summary))).toEqual([['replace line a=0 → a=1'], ['add line b=2'], ['mode 0644 → 0640']]);

      const { results } = await applyHost({ transport, play, scope, ctx, planned, pending });
      expect(results.map((r) => r.status)).toEqual(['changed', 'changed', 'changed']);
      // After the first change each later task reads again, and only its own fact.
      expect(transport.scripts.slice(1).map((s) => reads(s, conf))).toEqual([1, 1]);
      expect(readFileSync(conf, 'utf8')).toBe('a=1\nb=2\n');
    } finally {
      await transport.close();
    }
  });
});
