/**
 * template: render a local template with the host's variables, then behave
 * exactly like copy (compare by sha256, atomic write, secret-aware diff).
 * Symlinks as copy: a symlinked dest is never read and is replaced by a
 * regular file (Ansible's default `follow: false`).
 */
import { z } from 'zod';
import { pathSchema, wordSchema } from './common.js';
import { contentModule } from './copy.js';
import { fileAttrs, type FileState } from './files.js';
import type { Module } from './types.js';

export const templateArgs = z.strictObject({
  src: wordSchema,
  dest: pathSchema,
  backup: z.boolean().default(false),
  ...fileAttrs,
});

export type TemplateArgs = z.output<typeof templateArgs>;

export const template: Module<TemplateArgs, FileState> = contentModule('template', templateArgs, (args, ctx) =>
  Buffer.from(ctx.render(ctx.readLocal(args.src).toString('utf8')), 'utf8'),
);
