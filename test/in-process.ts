/**
 * The plumb CLI run in this process, through its `run(argv, io)` entry: what
 * bin/plumb.js does minus the process (stdout and stderr are captured exactly
 * as processIo would write them). Signals and the real binary's exit code
 * need a child process; everything else runs here.
 */
import { spawnSync } from 'node:child_process';
import { run } from '../src/cli/main.js';
import type { Io } from '../src/cli/command.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `env` is the whole environment the command sees (nothing of this process's leaks in unless passed). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const line = (text: string) => (text.endsWith('\n') ? text : text + '\n');
  const io: Io = { stdout: (t) => void (stdout += line(t)), stderr: (t) => void (stderr += line(t)), env };
  const started = Date.now();
  const code = await run(args, io);
  return { code, stdout, stderr, ms: Date.now() - started };
}

/**
 * The real binary, `node bin/plumb.js`, in a child process, for what only it shows: its entry
 * point and its exit code. It sees this process's PATH and HOME plus `env`, nothing else.
 */
export function runBinary(args: string[], env: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/plumb.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
