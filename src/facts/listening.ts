/**
 * The TCP sockets listening on the host, read from /proc/net/tcp and /proc/net/tcp6 (wait_for's
 * port check): no connection is made, nothing but the kernel's table is read, and the table of
 * the host's own network namespace is what a program on the host would connect to.
 */
import { fact, type Fact, type FactRef } from './types.js';

export interface Listener {
  /** The local address as text: 0.0.0.0, 127.0.0.1, ::, ::1, ::ffff:127.0.0.1, ... */
  address: string;
  port: number;
}

export interface Listening {
  listeners: Listener[];
}

/** `sl local_address rem_address st ...`: the local address of every socket in state 0A (LISTEN). */
function listeningProbe(): string {
  return ['if [ ! -r /proc/net/tcp ]; then echo unreadable; exit 0; fi', 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk \'$4 == "0A" { print "listen " $2 }\''].join('\n');
}

/** The kernel prints each 32-bit word of an address in host (little-endian) byte order. */
function wordBytes(hex: string): number[] {
  const bytes = [];
  for (let i = 0; i < 8; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  return bytes.reverse();
}

function addressText(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join('.');
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  if (bytes.every((b) => b === 0)) return '::';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return '::1';
  // Other addresses in full (no :: shortening): wait_for only asks about the wildcard and loopback ones.
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

export const listening: Fact<Record<string, never>, Listening> = {
  name: 'listening',
  summary: 'the local address and port of every listening TCP socket (/proc/net/tcp and tcp6)',
  probe: listeningProbe,
  parse(_p, { stdout }) {
    if (stdout.trim() === 'unreadable') return { known: false, reason: '/proc/net/tcp cannot be read on this host' };
    const listeners: Listener[] = [];
    for (const line of stdout.split('\n')) {
      const m = /^listen ([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(line.trim());
      if (m) listeners.push({ address: addressText(m[1].toUpperCase()), port: parseInt(m[2], 16) });
    }
    return { known: true, state: { listeners } };
  },
};

export function listeningFact(): FactRef<Listening> {
  return fact(listening, {});
}
