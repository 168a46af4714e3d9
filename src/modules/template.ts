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

const delimiter = (def: string, what: string) => z.string().min(1).max(8).default(def).describe(`the string that ${what} (Jinja's default ${def})`);

export const templateArgs = z.strictObject({
  src: wordSchema.describe("a local Jinja2 template (in the role's or playbook's templates/ directory, or relative to it), rendered with the host's variables"),
  dest: pathSchema.describe('absolute path of the file on the host'),
  backup: z.boolean().default(false).describe('keep a timestamped copy (DEST.YYYY-MM-DD@HH:MM:SS~) of the old file before overwriting it'),
  trim_blocks: z.boolean().default(true).describe('remove the first newline after a block tag such as {% if %} (Ansible: true)'),
  lstrip_blocks: z.boolean().default(false).describe('remove spaces and tabs before a block tag that starts its line'),
  newline_sequence: z
    .enum(['\\n', '\\r', '\\r\\n'])
    .default('\\n')
    .describe("the line ending of the rendered file, as Ansible spells it in single quotes: '\\n', '\\r' or '\\r\\n'"),
  block_start_string: delimiter('{%', 'opens a statement'),
  block_end_string: delimiter('%}', 'closes a statement'),
  variable_start_string: delimiter('{{', 'opens an expression'),
  variable_end_string: delimiter('}}', 'closes an expression'),
  comment_start_string: delimiter('{#', 'opens a comment'),
  comment_end_string: delimiter('#}', 'closes a comment'),
  ...writeOptions,
  ...fileAttrs,
});

export const template = contentModule(
  { name: 'template', summary: "a file on the host rendered from a local Jinja2 template with the host's variables, then as copy", schema: templateArgs },
  (args, ctx) =>
    Buffer.from(
      ctx.renderTemplate(args.src, {
        dest: args.dest,
        trimBlocks: args.trim_blocks,
        lstripBlocks: args.lstrip_blocks,
        newlineSequence: args.newline_sequence,
        blockStart: args.block_start_string,
        blockEnd: args.block_end_string,
        variableStart: args.variable_start_string,
        variableEnd: args.variable_end_string,
        commentStart: args.comment_start_string,
        commentEnd: args.comment_end_string,
      }),
      'utf8',
    ),
);
