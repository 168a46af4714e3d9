/**
 * The template module's render of a local template file, as Ansible's: its
 * whitespace options and delimiters, `ansible_managed` and the template_*
 * variables, lookups and includes found through the same search directories
 * as `src`, errors at the template file's own line and column, and secrecy:
 * a template that read a secret renders a secret.
 */
import { statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { HostScope } from '../config/hostvars.js';
import { READ_LIMITS, readLimited } from '../local-file.js';
import type { TemplateFileOptions } from '../modules/types.js';
import { TemplateError } from '../template/errors.js';
import type { FileHost } from '../template/evaluate.js';
import { renderFileHidden } from './secrecy.js';

/** Where a relative name is found: `kind` picks templates/ or files/ in each search directory. */
export type Locate = (path: string, kind: 'file' | 'template') => string;

export function fileHost(locate: Locate): FileHost {
  return {
    read(kind, path) {
      const found = locate(path, kind);
      try {
        return { path: found, text: readLimited(found, { limit: READ_LIMITS.localSource, what: 'local file' }).toString('utf8') };
      } catch (err) {
        throw new TemplateError(`lookup('${kind}', '${path}'): ${(err as Error).message}`);
      }
    },
  };
}

function ownerName(uid: number): string {
  try {
    const me = userInfo();
    return me.uid === uid ? me.username : String(uid);
  } catch {
    return String(uid);
  }
}

export function renderTemplateFile(scope: HostScope, locate: Locate, src: string, o: TemplateFileOptions): string {
  const path = resolve(locate(src, 'template'));
  const text = readLimited(path, { limit: READ_LIMITS.localSource, what: 'template' }).toString('utf8');
  const stat = statSync(path);
  const extra = {
    ansible_managed: 'Ansible managed',
    template_host: hostname(),
    template_path: src,
    template_fullpath: path,
    template_destpath: o.dest,
    template_uid: ownerName(stat.uid),
  };
  const newline = o.newlineSequence === '\\r\\n' ? '\r\n' : o.newlineSequence === '\\r' ? '\r' : '\n';
  const rendered = renderFileHidden(scope, text, {
    file: src,
    extra,
    files: fileHost(locate),
    syntax: {
      blockStart: o.blockStart,
      blockEnd: o.blockEnd,
      variableStart: o.variableStart,
      variableEnd: o.variableEnd,
      commentStart: o.commentStart,
      commentEnd: o.commentEnd,
      trimBlocks: o.trimBlocks,
      lstripBlocks: o.lstripBlocks,
    },
  });
  return newline === '\n' ? rendered : rendered.replace(/\r\n|\r|\n/g, newline);
}
