/**
 * stat: reads a path and changes nothing, so its task is always ok; what it read is what
 * `register:` stores under `stat`, in Ansible's shape (exists, isdir, isreg, islnk, mode as
 * "0644", uid, pw_name, size, checksum, lnk_source, ...). Its fact is read in the probe batch
 * like any other, so `when: x.stat.exists` is decided at plan time.
 */
import { z } from 'zod';
import { CHECKSUM_ALGORITHMS, type StatState, statFact } from '../facts/stat.js';
import { pathSchema } from './common.js';
import { defineModule, known } from './types.js';

export const statArgs = z.strictObject({
  path: pathSchema.describe('absolute path on the host'),
  follow: z.boolean().default(false).describe('describe what a symlink points to instead of the link'),
  get_checksum: z.boolean().default(true).describe('checksum a regular file the connecting user can read'),
  checksum_algorithm: z.enum(CHECKSUM_ALGORITHMS).default('sha1').describe('the checksum algorithm'),
  get_mime: z.literal(false).optional().describe('only false: plumb does not report mimetype and charset'),
  get_attributes: z.literal(false).optional().describe('only false: plumb does not report lsattr attributes'),
});

export type StatArgs = z.output<typeof statArgs>;

const bit = (mode: number, mask: number) => (mode & mask) !== 0;

/** The dict Ansible's stat returns under `stat`. */
export function statResult(path: string, s: StatState): Record<string, unknown> {
  if (!s.exists || s.rawMode === undefined) return { exists: false };
  const m = s.rawMode;
  const type = m & 0o170000;
  const out: Record<string, unknown> = {
    exists: true,
    path,
    mode: (m & 0o7777).toString(8).padStart(4, '0'),
    isdir: type === 0o040000,
    ischr: type === 0o020000,
    isblk: type === 0o060000,
    isreg: type === 0o100000,
    isfifo: type === 0o010000,
    islnk: type === 0o120000,
    issock: type === 0o140000,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    inode: s.inode,
    dev: s.dev,
    nlink: s.nlink,
    mtime: s.mtime,
    ctime: s.ctime,
    wusr: bit(m, 0o200),
    rusr: bit(m, 0o400),
    xusr: bit(m, 0o100),
    wgrp: bit(m, 0o020),
    rgrp: bit(m, 0o040),
    xgrp: bit(m, 0o010),
    woth: bit(m, 0o002),
    roth: bit(m, 0o004),
    xoth: bit(m, 0o001),
    isuid: bit(m, 0o4000),
    isgid: bit(m, 0o2000),
    blocks: s.blocks,
    block_size: s.blockSize,
    readable: s.readable,
    writeable: s.writeable,
    executable: s.executable,
  };
  if (s.owner !== undefined) out.pw_name = s.owner;
  if (s.group !== undefined) out.gr_name = s.group;
  if (type === 0o120000) {
    out.lnk_source = s.linkSource;
    out.lnk_target = s.linkTarget;
  }
  if (s.checksum !== undefined) out.checksum = s.checksum;
  return out;
}

export const stat = defineModule<StatArgs, { stat: StatState }>({
  name: 'stat',
  summary: "reads a path (type, mode, owner, size, checksum, link target) for `register`, in Ansible's shape; changes nothing",
  schema: statArgs,
  aliases: { dest: 'path', name: 'path', checksum: 'checksum_algorithm', checksum_algo: 'checksum_algorithm' },
  differences: [
    'The registered `stat` has no `atime` (reading a file may move it, so a plan would never be stable), `mimetype`/`charset` or `attributes`: `get_mime` and `get_attributes` take only false.',
  ],
  title: (args) => String(args.path ?? args.dest ?? args.name ?? ''),
  facts: (args) => ({ stat: statFact({ path: args.path, follow: args.follow, checksum: args.get_checksum ? args.checksum_algorithm : null }) }),
  plan(_args, facts) {
    // Nothing to change; a path that could not be read leaves the task (and what it registers) unknown.
    known(facts.stat);
    return [];
  },
  registers: (args, facts) => (facts.stat.known ? { stat: statResult(args.path, facts.stat.state) } : {}),
});
