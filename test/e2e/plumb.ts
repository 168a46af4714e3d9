/** Runs the plumb CLI from the sources, as a user would, and captures everything it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export interface PlumbRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningPlumb {
  child: ChildProcess;
  /** Resolves when stderr has printed a line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<PlumbRun>;
}

export function startPlumb(args: string[], env: NodeJS.ProcessEnv = {}): RunningPlumb {
  // bin/plumb.js with PLUMB_FROM_SOURCE runs the TypeScript sources, never a stale dist/.
  const child = spawn(process.execPath, [join(repoRoot, 'bin/plumb.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', PLUMB_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of [...waiters]) if (w.pattern.test(stderr)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const done = new Promise<PlumbRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    done,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        const timer = setTimeout(() => reject(new Error(`plumb never printed ${pattern}; stderr:\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => { clearTimeout(timer); resolve(); } });
        void done.then(() => { clearTimeout(timer); if (!pattern.test(stderr)) reject(new Error(`plumb exited without printing ${pattern}; stderr:\n${stderr}`)); });
      }),
  };
}

export function plumb(args: string[], env: NodeJS.ProcessEnv = {}): Promise<PlumbRun> {
  return startPlumb(args, env).done;
}
