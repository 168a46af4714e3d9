/**
 * copy's `remote_src: true`: src is a file on the host itself. Both files are read by the probe
 * (sha256, and the content up to the diff limit), so the plan compares them and shows the diff;
 * the copy is made on the host at apply time (cat into a temporary file beside dest, which gets
 * the mode and owner the write would give, then mv over dest), as Ansible copies it there.
 * A src that is a symlink is read through (Ansible opens it); a directory src is not copied yet.
 */
import { posix } from 'node:path';
import { quote } from '../quote.js';
import { splitWords } from './command.js';
import { attrChanges, attrPlans, backupCommand, DIFF_CONTENT_LIMIT, fileFact, type FileState, madeByWrite, unifiedDiff, writeAttrs, type Attrs } from './files.js';
import { type Change, type FactRef, type ModuleContext, ModuleError, type Planned, type Step, UnknownState } from './types.js';

export interface RemoteCopyArgs extends Attrs {
  src: string;
  dest: string;
  force: boolean;
  backup: boolean;
  validate?: string;
  /** `mode: preserve`: the source's mode. */
  preserveMode: boolean;
}

/** The source as the probe reads it: through a symlink, hashed, its text fetched for a diff. */
export function remoteSourceFact(src: string): FactRef<FileState> {
  return fileFact(src, { hash: true, fetchLimit: DIFF_CONTENT_LIMIT, follow: true });
}

/** The copy itself, run on the host: the new file is complete, with its attributes, before it replaces dest. */
function copyCommand(src: string, dest: string, attrs: Attrs): string {
  const temp = quote(posix.join(posix.dirname(dest), `.${posix.basename(dest)}.plumb-XXXXXXXX`));
  const lines = [`t=$(mktemp ${temp}) || exit 1`, `trap 'rm -f "$t"' EXIT`, `cat -- ${quote(src)} > "$t"`];
  // mktemp makes 0600: the mode the write would give is always set.
  lines.push(`chmod ${quote(attrs.mode ?? '0644')} "$t"`);
  if (attrs.owner !== undefined) lines.push(`chown -- ${quote(attrs.owner)} "$t"`);
  if (attrs.group !== undefined) lines.push(`chgrp -- ${quote(attrs.group)} "$t"`);
  lines.push(`mv -f -- "$t" ${quote(dest)}`, `trap - EXIT`);
  return lines.join(' &&\n');
}

/** Ansible's validate runs on the source file itself when it is on the host. */
function validateSource(validate: string, src: string, ctx: ModuleContext): Step {
  const run = splitWords(validate)
    .map((w) => w.split('%s').map(quote).join(quote(src)))
    .join(' ');
  return { kind: 'exec', command: run, describe: `validate ${ctx.redact(src)}: ${ctx.redact(validate)}` };
}

export function remoteCopyPlan(args: RemoteCopyArgs, dest: FileState, source: FileState, ctx: ModuleContext): Planned[] {
  const src = ctx.redact(args.src);
  const shownDest = ctx.redact(args.dest);
  if (source.type === 'absent') throw new UnknownState(`copy: src ${src} does not exist on the host (yet)`);
  if (source.type === 'directory') throw new ModuleError(`copy: src ${src} is a directory; remote_src copies a single file here`);
  if (source.type !== 'file') throw new ModuleError(`copy: src ${src} is not a regular file`);
  if (!args.force && dest.type !== 'absent') return [];
  if (dest.type === 'directory') throw new ModuleError(`copy: ${shownDest} is a directory; dest must name the file itself`);
  if (dest.type === 'other') throw new ModuleError(`copy: ${shownDest} exists and is not a regular file`);
  const wanted: Attrs = { ...args, mode: args.preserveMode ? source.mode : args.mode };
  // A link is replaced like a file is created: attributes as asked, none kept from its target.
  const asWritten: FileState = dest.type === 'link' ? { type: 'absent', umask: dest.umask } : dest;
  const attrs = attrChanges(shownDest, wanted, asWritten);
  if (dest.type === 'file' && dest.sha256 === source.sha256) return attrPlans(attrs, ctx);

  const secret = ctx.hasSecret(source.content ?? '') || ctx.hasSecret(dest.content ?? '');
  const exists = dest.type === 'file';
  const what =
    dest.type === 'link'
      ? `replace the symlink ${shownDest} (to ${ctx.redact(dest.target ?? '')}) by a copy of ${src}`
      : exists
        ? `copy ${src} over ${shownDest}`
        : `create ${shownDest}, a copy of ${src}`;
  const change: Change = secret ? { summary: `${what} (secret)`, target: shownDest, secret: true } : { summary: `${what} (${source.size} bytes)`, target: shownDest };
  if (!secret && source.content !== undefined && (!exists || dest.content !== undefined)) change.diff = unifiedDiff(shownDest, exists ? dest.content : undefined, source.content);

  const steps: Step[] = [];
  if (args.validate !== undefined) steps.push(validateSource(args.validate, args.src, ctx));
  if (args.backup && exists) {
    const backup = backupCommand(args.dest);
    steps.push({ kind: 'exec', command: backup, describe: ctx.redact(backup) });
  }
  const written = writeAttrs(wanted, asWritten);
  const copy = copyCommand(args.src, args.dest, written);
  steps.push({
    kind: 'exec',
    command: copy,
    describe: ctx.redact(
      `copy ${args.src} to ${args.dest} (${[written.mode, written.owner && `owner ${written.owner}`, written.group && `group ${written.group}`].filter(Boolean).join(' ')})`,
    ),
  });
  return [{ change, steps }, ...madeByWrite(attrs)];
}
