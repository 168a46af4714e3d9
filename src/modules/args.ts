/**
 * Argument schemas of every module, in one place so validation (issue 2) and
 * behaviour (src/modules/<name>.ts) share them. Each schema is strict: an
 * unknown argument is an error with a suggestion, not silently ignored.
 */
import { z } from 'zod';
import { freeForm, modeSchema, ownerSchema, pathSchema } from './common.js';

const fileAttrs = {
  mode: modeSchema.optional(),
  owner: ownerSchema.optional(),
  group: ownerSchema.optional(),
};

export const aptArgs = z.strictObject({
  name: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  state: z.enum(['present', 'absent', 'latest']).default('present'),
  update_cache: z.boolean().default(false),
  /** Seconds an apt cache refresh stays valid, so a converged host does not refresh every run. */
  cache_valid_time: z.number().int().nonnegative().default(3600),
  /** Reinstall a package whose files are missing or altered (dpkg --verify). */
  verify: z.boolean().default(false),
});

export const postconfArgs = z
  .record(
    // Mixed case exists in main.cf (smtp_tls_CApath), so letters of both cases are allowed.
    z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'main.cf parameter names are letters, digits and _'),
    z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v))),
  )
  .refine((r) => Object.keys(r).length > 0, { message: 'postconf needs at least one main.cf parameter' });

export const copyArgs = z
  .strictObject({
    dest: pathSchema,
    content: z.string().optional(),
    src: z.string().min(1).optional(),
    backup: z.boolean().default(false),
    ...fileAttrs,
  })
  .refine((a) => (a.content === undefined) !== (a.src === undefined), {
    message: 'copy needs exactly one of `content` or `src`',
  });

export const templateArgs = z.strictObject({
  src: z.string().min(1),
  dest: pathSchema,
  backup: z.boolean().default(false),
  ...fileAttrs,
});

export const fileArgs = z.strictObject({
  path: pathSchema,
  state: z.enum(['file', 'directory', 'absent', 'touch']).default('file'),
  ...fileAttrs,
});

export const lineinfileArgs = z.strictObject({
  path: pathSchema,
  line: z.string().optional(),
  regexp: z.string().optional(),
  state: z.enum(['present', 'absent']).default('present'),
  /** `EOF` (default) or a regular expression: the line goes after its last match. */
  insertafter: z.string().default('EOF'),
  create: z.boolean().default(false),
  ...fileAttrs,
}).refine((a) => a.state === 'absent' || a.line !== undefined, { message: 'lineinfile with state present needs `line`' })
  .refine((a) => a.state === 'present' || a.line !== undefined || a.regexp !== undefined, {
    message: 'lineinfile with state absent needs `regexp` or `line`',
  });

const guards = {
  /** Skip when this path exists. */
  creates: z.string().min(1).optional(),
  /** Skip unless this path exists. */
  removes: z.string().min(1).optional(),
  /** Skip when this shell command succeeds. */
  unless: z.string().min(1).optional(),
  chdir: z.string().min(1).optional(),
};

export const commandArgs = freeForm(
  z.strictObject({
    cmd: z.string().min(1).optional(),
    argv: z.array(z.string()).min(1).optional(),
    ...guards,
  }).refine((a) => (a.cmd === undefined) !== (a.argv === undefined), { message: 'command needs exactly one of `cmd` or `argv`' }),
);

export const shellArgs = freeForm(z.strictObject({ cmd: z.string().min(1), ...guards }));

export const serviceArgs = z.strictObject({
  name: z.string().min(1),
  state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
  enabled: z.boolean().optional(),
}).refine((a) => a.state !== undefined || a.enabled !== undefined, { message: 'service needs `state` or `enabled`' });

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

export type AptArgs = z.output<typeof aptArgs>;
export type PostconfArgs = z.output<typeof postconfArgs>;
export type CopyArgs = z.output<typeof copyArgs>;
export type TemplateArgs = z.output<typeof templateArgs>;
export type FileArgs = z.output<typeof fileArgs>;
export type LineinfileArgs = z.output<typeof lineinfileArgs>;
export type CommandArgs = z.output<typeof commandArgs>;
export type ShellArgs = z.output<typeof shellArgs>;
export type ServiceArgs = z.output<typeof serviceArgs>;
