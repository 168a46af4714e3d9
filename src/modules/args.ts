/**
 * Argument schemas of every module, collected from the module files (each
 * module declares its own) so validation (issue 2) can check a playbook
 * without loading behaviour. Each schema is strict: an unknown argument is an
 * error with a suggestion, not silently ignored.
 */
import { aptArgs } from './apt.js';
import { commandArgs } from './command.js';
import { copyArgs } from './copy.js';
import { fileArgs } from './file.js';
import { lineinfileArgs } from './lineinfile.js';
import { postconfArgs } from './postconf.js';
import { serviceArgs } from './service.js';
import { shellArgs } from './shell.js';
import { templateArgs } from './template.js';

export { aptArgs, commandArgs, copyArgs, fileArgs, lineinfileArgs, postconfArgs, serviceArgs, shellArgs, templateArgs };

export const argSchemas = {
  apt: aptArgs,
  postconf: postconfArgs,
  copy: copyArgs,
  template: templateArgs,
  file: fileArgs,
  lineinfile: lineinfileArgs,
  command: commandArgs,
  shell: shellArgs,
  service: serviceArgs,
} as const;

export type ModuleName = keyof typeof argSchemas;
export const moduleNames = Object.keys(argSchemas) as ModuleName[];

export type { AptArgs } from './apt.js';
export type { CommandArgs } from './command.js';
export type { CopyArgs } from './copy.js';
export type { FileArgs } from './file.js';
export type { LineinfileArgs } from './lineinfile.js';
export type { PostconfArgs } from './postconf.js';
export type { ServiceArgs } from './service.js';
export type { ShellArgs } from './shell.js';
export type { TemplateArgs } from './template.js';
