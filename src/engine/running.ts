/**
 * The remote commands in flight, so a second Ctrl-C, which quits without
 * waiting, can say what it leaves behind: a command on a host does not stop
 * because plumb exits (sshd does not kill a session's processes when the
 * connection drops; only a --task-timeout wrapper ends them).
 */
export interface RunningCommand {
  host: string;
  /** Task name, or what plumb itself is doing ("probes", "record pending handlers"). */
  task: string;
  /** What runs, as plumb shows it (already redacted by the module). */
  command: string;
  since: number;
}

export class RunningCommands {
  private readonly items = new Set<RunningCommand>();

  async track<T>(host: string, task: string, command: string, work: () => Promise<T>): Promise<T> {
    const item: RunningCommand = { host, task, command, since: performance.now() };
    this.items.add(item);
    try {
      return await work();
    } finally {
      this.items.delete(item);
    }
  }

  list(): RunningCommand[] {
    return [...this.items];
  }
}

/** One line per command: `  mail1: task "restart": service postfix restart (running 3.2 s)`. */
export function describeRunning(commands: RunningCommand[], now = performance.now()): string[] {
  return commands.map((c) => `  ${c.host}: task "${c.task}": ${c.command} (running ${((now - c.since) / 1000).toFixed(1)} s)`);
}
