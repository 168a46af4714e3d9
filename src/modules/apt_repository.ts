/**
 * apt_repository: one `deb`/`deb-src` line present in (or absent from) apt's one-line source
 * lists, as Ansible 2.14 keeps them. The line is normalised (whitespace collapsed, a `# comment`
 * kept apart); `present` enables every equal line already there (commented out or not) and
 * otherwise appends it to sources.list.d/<filename>.list, the name derived from the URL as
 * Ansible derives it; `absent` removes every enabled equal line, and a list left empty is
 * deleted. A list that changes is written whole in Ansible's normalised form, atomically.
 * After a change the apt cache is refreshed (update_cache, default true).
 *
 * Signing keys belong in /etc/apt/keyrings, named by `signed-by=` in the line's options
 * (fetch them with get_url); plumb never calls the deprecated apt-key.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { aptSourcesFact, type AptSources, SOURCES_DIR, type SourceFile } from '../facts/apt-sources.js';
import { APT_STAMP } from '../facts/dpkg.js';
import { SBIN_PATH } from '../facts/types.js';
import { quote } from '../quote.js';
import { modeSchema } from './common.js';
import { unifiedDiff, wantedMode } from './files.js';
import { defineModule, known, type ModuleContext, ModuleError, type Planned, type Step } from './types.js';

const VALID_TYPES = new Set(['deb', 'deb-src']);

export const aptRepositoryArgs = z.strictObject({
  repo: z
    .string()
    .min(1)
    .refine((r) => !r.includes('\n') && !r.includes('\0'), { message: 'repo must be one line' })
    .refine((r) => !r.startsWith('ppa:'), { message: 'ppa: repositories need Launchpad and apt-key: not supported (write the deb line with signed-by=)' })
    .describe('the source line, e.g. "deb [signed-by=/etc/apt/keyrings/x.asc] https://example.org/debian bookworm main"'),
  state: z.enum(['present', 'absent']).default('present').describe('present: the line is in a list and enabled; absent: no enabled copy of it is left'),
  filename: z
    .string()
    .regex(/^[A-Za-z0-9_.+-]+$/, 'filename is a file name in sources.list.d without .list (letters, digits, _ . + -)')
    .optional()
    .describe('the list file in sources.list.d (".list" is added); default: derived from the URL as Ansible does'),
  mode: modeSchema.optional().describe('mode of a list file a line is added to (default: what the umask gives a new file)'),
  update_cache: z.boolean().default(true).describe('run apt-get update after a change'),
});

export type AptRepositoryArgs = z.output<typeof aptRepositoryArgs>;

/** One line of a list, as Ansible's SourcesList reads it. */
interface Line {
  valid: boolean;
  enabled: boolean;
  source: string;
  comment: string;
}

export function parseLine(raw: string): Line {
  let line = raw.trim();
  let enabled = true;
  let comment = '';
  if (line.startsWith('#')) {
    enabled = false;
    line = line.slice(1);
  }
  const i = line.indexOf('#');
  if (i > 0) {
    comment = line.slice(i + 1).trim();
    line = line.slice(0, i);
  }
  let source = line.trim();
  let valid = false;
  if (source) {
    const chunks = source.split(/\s+/);
    if (VALID_TYPES.has(chunks[0])) {
      valid = true;
      source = chunks.join(' ');
    }
  }
  return { valid, enabled, source, comment };
}

function splitLines(content: string): string[] {
  const lines = content.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function dumpLine(l: Line): string {
  return `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}\n`;
}

const dump = (lines: Line[]) => lines.map(dumpLine).join('');

/** Ansible's file name for a source line: the host and path of its URL, each non-alphanumeric run an underscore. */
export function suggestFilename(source: string): string {
  const parts = source
    .replace(/\[[^\]]+\]/g, '')
    .replace(/\w+:\/\//g, '')
    .split(/\s+/)
    .filter((p) => p !== '' && !VALID_TYPES.has(p));
  const first = (parts[0] ?? '').split('@').pop() ?? '';
  return first
    .replace(/[^a-zA-Z0-9]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .join('_');
}

/** apt-get update; when it fails, the lists this task changed are put back and the task fails, as in Ansible. */
function refreshStep(touched: ReadonlyArray<readonly [string, SourceFile | undefined]>): Step {
  const update = `${SBIN_PATH}; DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update`;
  const line = [
    `if ! (${update}); then`,
    restoreScript(touched),
    "echo 'apt_repository: apt-get update failed; the source lists were put back as they were' >&2",
    'exit 1',
    'fi',
    `mkdir -p ${quote(posix.dirname(APT_STAMP))} && touch ${quote(APT_STAMP)}`,
  ].join('\n');
  return { kind: 'exec', command: line, describe: 'apt-get update (the lists are put back if it fails)' };
}

/** Every list's lines once the task is done, by path (the target list added when the line goes there). */
function listsAfter(args: AptRepositoryArgs, files: SourceFile[], source: string, comment: string, target: string): Map<string, Line[]> {
  const after = new Map<string, Line[]>(files.map((f) => [f.path, splitLines(f.content).map(parseLine)]));
  if (args.state === 'absent') {
    for (const [path, lines] of after)
      after.set(
        path,
        lines.filter((l) => !(l.valid && l.enabled && l.source === source)),
      );
    return after;
  }
  let found = false;
  for (const lines of after.values()) {
    for (const l of lines) {
      if (l.valid && l.source === source) {
        l.enabled = true;
        found = true;
      }
    }
  }
  if (!found) after.set(target, [...(after.get(target) ?? []), { valid: true, enabled: true, source, comment }]);
  return after;
}

function plan(args: AptRepositoryArgs, sources: AptSources, ctx: ModuleContext): Planned[] {
  const wanted = parseLine(args.repo);
  if (!wanted.valid || !wanted.enabled) throw new ModuleError(`apt_repository: invalid repository string: ${ctx.redact(args.repo)} (it must start with deb or deb-src)`);
  const target = posix.join(SOURCES_DIR, `${args.filename ?? suggestFilename(wanted.source)}.list`);
  const byPath = new Map(sources.files.map((f) => [f.path, f]));
  const after = listsAfter(args, sources.files, wanted.source, '', target);
  const normalised = (f: SourceFile) => dump(splitLines(f.content).map(parseLine));
  const changed = [...after].some(([path, lines]) => {
    const file = byPath.get(path);
    return file === undefined ? lines.length > 0 : normalised(file) !== dump(lines);
  });
  if (!changed) return [];
  // As Ansible's save(): once anything changes, every list is written in the normalised form and an empty one is deleted.
  const out: Planned[] = [];
  for (const [path, lines] of after) {
    const file = byPath.get(path);
    const text = dump(lines);
    const ours = file === undefined || normalised(file) !== text;
    if (lines.length === 0) {
      if (file === undefined) continue;
      out.push({
        change: { summary: ours ? `remove ${path} (no lines left)` : `remove ${path} (empty list)`, target: path, diff: ctx.redact(unifiedDiff(path, file.content, '')) },
        steps: [{ kind: 'exec', command: `rm -f -- ${quote(path)}`, describe: `remove ${path}` }],
      });
      continue;
    }
    if (file !== undefined && file.content === text) continue;
    // Ansible sets `mode` only on the file it added the line to, and a new file otherwise gets what the umask gives.
    const added =
      path === target &&
      args.state === 'present' &&
      !sources.files.some((f) =>
        splitLines(f.content)
          .map(parseLine)
          .some((l) => l.valid && l.source === wanted.source),
      );
    const mode = added && args.mode !== undefined ? wantedMode(args.mode, file ? { type: 'file', mode: file.mode } : { type: 'absent', umask: sources.umask }, false) : file?.mode;
    const newMode = mode ?? (sources.umask ? (0o666 & ~parseInt(sources.umask, 8)).toString(8).padStart(4, '0') : undefined);
    const verb = args.state === 'absent' ? 'remove' : 'add';
    const summary = !ours ? `rewrite ${path} in normalised form` : file ? `${verb} ${ctx.redact(wanted.source)} in ${path}` : `create ${path} with ${ctx.redact(wanted.source)}`;
    const write: Step = {
      kind: 'write',
      path,
      content: text,
      ...(newMode ? { mode: newMode } : {}),
      ...(file ? { owner: String(file.uid), group: String(file.gid) } : {}),
      describe: `write ${path} (${Buffer.byteLength(text)} bytes${newMode ? `, ${newMode}` : ''})`,
    };
    out.push({ change: { summary, target: path, diff: ctx.redact(unifiedDiff(path, file?.content, text)) }, steps: [write] });
  }
  if (args.update_cache) {
    const touched = out.map((p) => p.change.target);
    out.push({ change: { summary: 'update apt cache (sources changed)', target: 'apt cache' }, steps: [refreshStep(touched.map((t) => [t, byPath.get(t)] as const))] });
  }
  return out;
}

/** Shell that puts the lists back as they were before this task (Ansible's revert when apt-get update fails). */
function restoreScript(touched: ReadonlyArray<readonly [string, SourceFile | undefined]>): string {
  return touched
    .map(([path, file]) => {
      if (file === undefined) return `rm -f -- ${quote(path)}`;
      const owner = `${file.uid}:${file.gid}`;
      return `printf %s ${quote(Buffer.from(file.content).toString('base64'))} | base64 -d > ${quote(path)} && chmod ${file.mode} ${quote(path)} && chown ${owner} ${quote(path)}`;
    })
    .join('\n');
}

export const apt_repository = defineModule<AptRepositoryArgs, { sources: AptSources }>({
  name: 'apt_repository',
  summary: "a deb/deb-src line present in or absent from apt's one-line source lists, in Ansible's file and form; apt-get update after a change",
  schema: aptRepositoryArgs,
  aliases: { 'update-cache': 'update_cache' },
  differences: [
    'Not supported: `ppa:` repositories (they need Launchpad and apt-key), `codename`, `validate_certs`, `install_python_apt`, update_cache retries; `filename` cannot hold a /.',
  ],
  title: (args) => String(args.repo ?? ''),
  facts: () => ({ sources: aptSourcesFact() }),
  plan: (args, facts, ctx) => plan(args, known(facts.sources), ctx),
});
