/**
 * Fault injection for the e2e tests: cut every SSH connection to one fleet
 * host without stopping its sshd, like a network drop mid-run. The processes
 * killed are the per-connection sshd processes inside that host's network
 * namespace (the fleet started them), found by PID; the listening sshd stays.
 */
import { readFileSync } from 'node:fs';
import { hostPids } from '../fleet/hosts.js';
import { netnsName } from '../fleet/naming.js';

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export function killConnections(fleetName: string, host: string): number[] {
  // A connection's sshd renames itself "sshd: root@notty" (or "sshd: root [priv]"); the listener
  // calls itself "sshd: /usr/sbin/sshd -D [listener] ..." and must live on.
  const victims = hostPids(netnsName(fleetName, host)).filter((pid) => {
    const cmd = commandLine(pid);
    return cmd.startsWith('sshd: ') && !cmd.includes('[listener]');
  });
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return victims;
}
