/** `connection: local`: the control machine itself, same command semantics as over ssh. */
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { seconds, ShellTransport, TextCollector } from './base-transport.js';
import { TransportTimeoutError, type ExecResult } from './types.js';

export class LocalTransport extends ShellTransport {
  private children = new Set<number>();

  constructor(
    host: string,
    defaultTimeoutMs: number,
    becomePassword: () => Promise<string | undefined>,
    /** The control machine's environment, which is this host's (the CLI passes its own). */
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    super(host, userInfo().username, defaultTimeoutMs, becomePassword);
  }

  protected run(commandLine: string, stdin: Buffer | undefined, timeoutMs: number, label: string): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      // detached: its own process group, so a timeout kills the whole tree.
      const child = spawn('/bin/sh', ['-c', commandLine], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: this.env });
      const out = new TextCollector();
      const err = new TextCollector();
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (child.pid !== undefined) this.children.add(child.pid);
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      // A command that does not read its stdin closes the pipe early: not an error.
      child.stdin.on('error', () => {});
      child.on('error', (e) => {
        if (timer) clearTimeout(timer);
        reject(new Error(`cannot run /bin/sh locally: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (child.pid !== undefined) this.children.delete(child.pid);
        if (timedOut) return;
        resolve({ code, signal, stdout: out.text(), stderr: err.text() });
      });
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(child.pid);
          reject(new TransportTimeoutError(`timed out after ${seconds(timeoutMs)} s running ${label}`));
        }, timeoutMs);
      }
      child.stdin.end(stdin ?? Buffer.alloc(0));
    });
  }

  async close(): Promise<void> {
    for (const pid of this.children) killGroup(pid);
    this.children.clear();
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
