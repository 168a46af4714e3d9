/**
 * template: render a local template with the host's variables, then behave
 * exactly like copy (compare by sha256, atomic write, secret-aware diff).
 * Symlinks as copy: a symlinked dest is never read and is replaced by a
 * regular file (Ansible's default `follow: false`).
 */
import { z } from 'zod';
import { pathSchema, wordSchema } from './common.js';
import { contentModule, writeOptions } from './copy.js';
import { fileAttrs } from './files.js';

export const templateArgs = z.strictObject({
  src: wordSchema.describe("a local template, relative to the playbook, rendered with the host's variables"),
  dest: pathSchema.describe('absolute path of the file on the host'),
  backup: z.boolean().default(false).describe('keep a timestamped copy (DEST.YYYY-MM-DD@HH:MM:SS~) of the old file before overwriting it'),
  ...writeOptions,
  ...fileAttrs,
});

export const template = contentModule(
  { name: 'template', summary: "a file on the host rendered from a local template with the host's variables, then as copy", schema: templateArgs },
  (args, ctx) => Buffer.from(ctx.render(ctx.readLocal(args.src).toString('utf8')), 'utf8'),
);
