/**
 * Fault injection for the e2e tests: cut every SSH connection to one fleet
 * host without stopping its sshd, like a network drop mid-run. The processes
 * killed are the per-connection children of the sshd the fleet started, found
 * by its recorded PID.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readState } from '../fleet/fleet.js';

function parentOf(pid: number): number | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function killConnections(fleetName: string, host: string): number[] {
  const sshd = readState(fleetName)?.sshdPids[host];
  if (!sshd) throw new Error(`fleet ${fleetName} has no sshd recorded for ${host}`);
  const children = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => parentOf(pid) === sshd);
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return children;
}
