/**
 * The apt-sources fact: every one-line-style source list apt reads (/etc/apt/sources.list and
 * /etc/apt/sources.list.d/*.list) with its content, mode and owner, and the shell's umask (a
 * new list file gets 0666 & ~umask, as Ansible's apt_repository gives it). Read-only.
 */
import { fact, type Fact, type FactRef, type Probed } from './types.js';

export const SOURCES_LIST = '/etc/apt/sources.list';
export const SOURCES_DIR = '/etc/apt/sources.list.d';

export interface SourceFile {
  path: string;
  content: string;
  mode: string;
  uid: number;
  gid: number;
}

export interface AptSources {
  files: SourceFile[];
  umask?: string;
}

const PROBE = [
  `for f in ${SOURCES_LIST} ${SOURCES_DIR}/*.list; do`,
  '  if [ -f "$f" ] && [ ! -L "$f" ]; then',
  '    if [ -r "$f" ]; then printf \'file %s %s \' "$(stat -c \'%a %u %g\' -- "$f")" "$(printf %s "$f" | base64 -w 0)"; base64 -w 0 < "$f"; echo; else echo "unreadable $f"; fi',
  '  fi',
  'done',
  'echo "umask $(umask)"',
].join('\n');

function parse(stdout: string): Probed<AptSources> {
  const files: SourceFile[] = [];
  let umask: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('unreadable ')) return { known: false, reason: `cannot read ${line.slice(11)} (permission denied?)` };
    const m = /^file ([0-7]{3,4}) (\d+) (\d+) ([A-Za-z0-9+/=]+) ?([A-Za-z0-9+/=]*)$/.exec(line);
    if (m) {
      const path = Buffer.from(m[4], 'base64').toString('utf8');
      files.push({ path, mode: parseInt(m[1], 8).toString(8).padStart(4, '0'), uid: Number(m[2]), gid: Number(m[3]), content: Buffer.from(m[5], 'base64').toString('utf8') });
    }
    const u = /^umask ([0-7]{3,4})$/.exec(line);
    if (u) umask = parseInt(u[1], 8).toString(8).padStart(4, '0');
  }
  return { known: true, state: { files, ...(umask ? { umask } : {}) } };
}

export const aptSources: Fact<Record<string, never>, AptSources> = {
  name: 'apt-sources',
  summary: 'the one-line apt source lists (sources.list and sources.list.d/*.list): content, mode and owner of each',
  probe: () => PROBE,
  parse: (_p, out) => parse(out.stdout),
};

export function aptSourcesFact(): FactRef<AptSources> {
  return fact(aptSources, {});
}
