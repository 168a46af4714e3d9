/**
 * Running machine-side commands for the fleet. Arguments go straight to
 * execve (no shell), so nothing here needs quoting; the few places that must
 * hand a command line to a shell inside a host use src/quote.ts.
 */
import { execFile, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`\`${argv.join(' ')}\` exited ${result.code}${detail ? `: ${detail}` : ''}`);
  }
}

export interface RunOptions {
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
}

/** Run a command and collect its output; throws CommandError on failure unless allowFail. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 127) : 0;
        const result = { code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') };
        if (code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
        else resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Synchronous twin of run(), for teardown from a process 'exit' handler. */
export function runSync(argv: string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: opts.timeoutMs,
  });
  const result = { code: r.status ?? (r.error ? 127 : 128), stdout: r.stdout ?? '', stderr: r.stderr || (r.error?.message ?? '') };
  if (result.code !== 0 && !opts.allowFail) throw new CommandError(argv, result);
  return result;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
