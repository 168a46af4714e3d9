/**
 * Runs the plumb CLI against the fleet and captures everything it prints:
 * `plumb` in this process through the CLI's `run(argv, io)`, `startPlumb` as
 * a child process (bin/plumb.js) for what needs one: Ctrl-C, a kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runCli } from '../in-process.js';

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
    env: { ...runEnv(env), PLUMB_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of [...waiters])
      if (w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  });
  const done = new Promise<PlumbRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    done,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        const timer = setTimeout(() => reject(new Error(`plumb never printed ${pattern}; stderr:\n${stderr}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void done.then(() => {
          clearTimeout(timer);
          if (!pattern.test(stderr)) reject(new Error(`plumb exited without printing ${pattern}; stderr:\n${stderr}`));
        });
      }),
  };
}

/** The environment a run sees: this process's, as a non-interactive CI job, plus `env`. */
function runEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, CI: 'true', NO_COLOR: '1', ...env };
}

export async function plumb(args: string[], env: NodeJS.ProcessEnv = {}): Promise<PlumbRun> {
  const { code, stdout, stderr } = await runCli(args, runEnv(env));
  return { code, stdout, stderr };
}
