/** Builds what modules see of the control machine: redaction, local files, rendering. */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { taskScope, type HostScope } from '../config/hostvars.js';
import type { Task } from '../config/model.js';
import { findLocal } from '../config/template-files.js';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { localTree } from '../local-tree.js';
import type { ModuleContext } from '../modules/types.js';
import { renderFileHidden } from './secrecy.js';
import { fileHost, renderTemplateFile } from './template-file.js';
import { scopeExpressions } from './expressions.js';

/** How a context made by `moduleContext` makes the context of one task (its role's files and variables). */
const perTask = new WeakMap<ModuleContext, (task: Task) => ModuleContext>();

export function moduleContext(scope: HostScope, baseDir: string): ModuleContext {
  const fromPlaybook = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  // Lookups in task arguments and variables resolve from the playbook's directory (issue 14).
  scope.scope.files ??= fileHost(fromPlaybook);
  const ctx = contextOf(scope, fromPlaybook);
  const cache = new Map<Task, ModuleContext>();
  perTask.set(ctx, (task) => {
    if (!task.scoped && !task.searchDirs) return ctx;
    let c = cache.get(task);
    if (!c)
      cache.set(
        task,
        (c = contextOf(taskScope(scope, task), (path, kind) => findLocal(path, kind ? { module: kind === 'template' ? 'template' : 'copy', searchDirs: task.searchDirs } : task))),
      );
    return c;
  });
  return ctx;
}

/** The context `task` runs with: its role's variables and files; `ctx` itself for a task of the playbook. */
export function taskContext(ctx: ModuleContext, task: Task): ModuleContext {
  return perTask.get(ctx)?.(task) ?? ctx;
}

function contextOf(scope: HostScope, locate: (path: string, kind?: 'file' | 'template') => string): ModuleContext {
  return {
    redact: (text) => scope.redactor.redact(text),
    hasSecret: (text) => scope.redactor.has(text),
    readLocal: (path) => readLimited(locate(path), { limit: READ_LIMITS.localSource, what: 'local file' }),
    // Issue 15: copy's `mode: preserve` keeps the local file's mode.
    localMode: (path) => (statSync(locate(path)).mode & 0o7777).toString(8).padStart(4, '0'),
    localTree: (path) => localTree(locate(path)),
    render: (text) => renderFileHidden(scope, text),
    renderTemplate: (src, options) => renderTemplateFile(scope, locate, src, options),
    ...scopeExpressions(scope),
  };
}
