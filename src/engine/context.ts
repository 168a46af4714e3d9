/** Builds what modules see of the control machine: redaction, local files, rendering. */
import { isAbsolute, resolve } from 'node:path';
import type { HostScope } from '../config/hostvars.js';
import { READ_LIMITS, readLimited } from '../local-file.js';
import type { ModuleContext } from '../modules/types.js';
import { renderFileHidden } from './secrecy.js';

export function moduleContext(scope: HostScope, baseDir: string): ModuleContext {
  return {
    redact: (text) => scope.redactor.redact(text),
    hasSecret: (text) => scope.redactor.has(text),
    readLocal: (path) => readLimited(isAbsolute(path) ? path : resolve(baseDir, path), { limit: READ_LIMITS.localSource, what: 'local file' }),
    render: (text) => renderFileHidden(scope, text),
  };
}
