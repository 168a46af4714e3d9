/**
 * Runs one benchmarked command and measures it: wall time, CPU seconds of the
 * whole process tree, peak memory.
 *
 * CPU: every tool gets its own cpuacct cgroup (cgroup v1 `cpuacct.usage_user/
 * _sys`, or v2 `cpu.stat`), and a run's CPU is the difference of the cgroup's
 * counters across the run. Unlike wait4()'s rusage this also counts processes
 * that detach from the tool — Ansible's ControlPersist ssh masters, which do
 * the encryption for every later command — and it counts them in the run that
 * used them even when an earlier run started them.
 * Memory: the cgroup's processes' resident set sizes (VmRSS), summed, sampled
 * every 50 ms; the peak of that sum. For plumb (one process) it is its RSS.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallS: number;
  cpuS: number;
  peakRssMB: number;
  /** The part of cpuS spent in the kernel. */
  sysS: number;
}

export class CpuGroup {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
  ) {}

  static create(name: string): CpuGroup {
    const v1 = '/sys/fs/cgroup/cpuacct';
    const v2root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : undefined;
    if (existsSync(join(v1, 'cpuacct.usage'))) {
      const dir = join(v1, name);
      mkdirSync(dir, { recursive: true });
      return new CpuGroup(dir, false);
    }
    if (v2root) {
      const dir = join(v2root, name);
      mkdirSync(dir, { recursive: true });
      return new CpuGroup(dir, true);
    }
    throw new Error('no cpuacct cgroup (v1 /sys/fs/cgroup/cpuacct or v2 /sys/fs/cgroup) to measure CPU of process trees');
  }

  /** User + system CPU seconds used so far by everything that ever ran in the group. */
  cpuSeconds(): number {
    if (this.v2) {
      const stat = readFileSync(join(this.dir, 'cpu.stat'), 'utf8');
      return Number(/usage_usec (\d+)/.exec(stat)![1]) / 1e6;
    }
    return Number(readFileSync(join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e9;
  }

  /** Kernel-side CPU seconds so far (loopback TCP, syscalls): what socket writes cost beyond JavaScript. */
  sysSeconds(): number {
    if (this.v2) return Number(/system_usec (\d+)/.exec(readFileSync(join(this.dir, 'cpu.stat'), 'utf8'))![1]) / 1e6;
    return Number(readFileSync(join(this.dir, 'cpuacct.usage_sys'), 'utf8')) / 1e9;
  }

  pids(): number[] {
    return readFileSync(join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  }

  rssBytes(): number {
    let total = 0;
    for (const pid of this.pids()) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) total += Number(m[1]) * 1024;
      } catch {
        // exited between the listing and the read
      }
    }
    return total;
  }

  /** Ends the processes still in the group (Ansible's ControlPersist masters), then removes it. */
  async remove(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const pids = this.pids();
      if (!pids.length) break;
      for (const pid of pids) {
        try {
          process.kill(pid, i < 20 ? 'SIGTERM' : 'SIGKILL');
        } catch {
          // gone
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      rmdirSync(this.dir);
    } catch {
      // still busy; harmless, the kernel frees it when empty
    }
  }

  /** Write a PID into the group (used by the `sh -c` shim below). */
  shim(argv: string[]): string[] {
    return ['sh', '-c', `echo $$ > ${join(this.dir, 'cgroup.procs')} && exec "$@"`, 'bench-shim', ...argv];
  }
}

export function runMeasured(group: CpuGroup, argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const cpu0 = group.cpuSeconds();
    const sys0 = group.sysSeconds();
    const t0 = performance.now();
    const [cmd, ...args] = group.shim(argv);
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, group.rssBytes());
    };
    const sampler = setInterval(sample, 50);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.stdin.end(opts.stdin ?? '');
    child.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, wallS, cpuS: group.cpuSeconds() - cpu0, peakRssMB: peak / 1048576, sysS: group.sysSeconds() - sys0 });
    });
  });
}

/** Several commands at once (the floors: one ssh per host), measured as one run. */
export async function runMeasuredParallel(
  group: CpuGroup,
  argvs: Array<{ argv: string[]; stdin?: string }>,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ results: Array<{ code: number | null; stdout: string; stderr: string }>; wallS: number; cpuS: number; peakRssMB: number }> {
  const cpu0 = group.cpuSeconds();
  const t0 = performance.now();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, group.rssBytes())), 50);
  const results = await Promise.all(
    argvs.map(
      ({ argv, stdin }) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const [cmd, ...args] = group.shim(argv);
          const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('error', reject);
          child.stdin.end(stdin ?? '');
          child.on('close', (code) => {
            if (timer) clearTimeout(timer);
            resolve({ code, stdout, stderr });
          });
        }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  return { results, wallS, cpuS: group.cpuSeconds() - cpu0, peakRssMB: peak / 1048576 };
}
