/** The module registry: name → module. The engine looks tasks' modules up here. */
import { apt } from './apt.js';
import { argSchemas, type ModuleName } from './args.js';
import { command } from './command.js';
import { copy } from './copy.js';
import { file } from './file.js';
import { lineinfile } from './lineinfile.js';
import { postconf } from './postconf.js';
import { service } from './service.js';
import { shell } from './shell.js';
import { template } from './template.js';
import type { Module } from './types.js';

export const modules: Record<ModuleName, Module> = {
  apt,
  postconf,
  copy,
  template,
  file,
  lineinfile,
  command,
  shell,
  service,
};

export { argSchemas, moduleNames, type ModuleName } from './args.js';
export type * from './types.js';
export { ModuleError } from './types.js';

// Each module's schema is the one validation uses (one source of truth).
for (const [name, module] of Object.entries(modules)) {
  if (module.schema !== argSchemas[name as ModuleName]) throw new Error(`module ${name}: schema differs from argSchemas.${name}`);
}
