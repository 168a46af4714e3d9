/**
 * Argument pieces shared by several modules. Each is the one rule a value must
 * pass, literal or rendered from variables: a template is never a reason to
 * let a value through (it is checked again, strictly, once rendered).
 */
import { z } from 'zod';
import { isSymbolicMode } from './symbolic-mode.js';

/**
 * Every mode schema with the words it takes besides modes, so Ansible's spelling (`mode=0644` in
 * key=value, YAML 1.1 octal) is read as a mode, and the JSON Schema says what a mode is, wherever
 * one is taken.
 */
const modeSchemas = new WeakMap<object, readonly string[]>();

/** The words a mode schema takes besides modes (copy's `preserve`); undefined for any other schema. */
export const modeWordsOf = (schema: unknown): readonly string[] | undefined => (typeof schema === 'object' && schema !== null ? modeSchemas.get(schema) : undefined);

export const isModeSchema = (schema: unknown): boolean => modeWordsOf(schema) !== undefined;

/**
 * File modes are quoted octal strings, or symbolic modes (`u=rw,g=r,o=`) resolved against the path's mode at plan time. YAML 1.2 reads `0600` as the decimal
 * number 600, so a number is refused with the fix rather than guessed at.
 */
export const modeSchema = modeWith([]);

/** A mode, or one of `words` (copy's `preserve`), checked by the one rule so a bad mode gets the same fix. */
export function modeWith(words: readonly string[]) {
  const schema = z.unknown().transform((value, ctx) => {
    if (typeof value === 'string' && words.includes(value)) return value;
    if (typeof value === 'number') {
      ctx.addIssue({
        code: 'custom',
        message: `mode must be a quoted octal string such as "0${String(value).padStart(3, '0')}": YAML reads ${value} as a decimal number`,
        params: { plumb: 'octal-mode' },
      });
      return z.NEVER;
    }
    if (typeof value === 'string' && value !== '' && isSymbolicMode(value)) return value;
    if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
      ctx.addIssue({ code: 'custom', message: `mode must be a quoted octal string such as "0644" or a symbolic mode such as "u=rw,g=r,o=", found ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return value.length === 3 ? `0${value}` : value;
  });
  modeSchemas.set(schema, words);
  return schema;
}

/** Linux's PATH_MAX less the terminating NUL: a longer path cannot be opened. */
export const PATH_MAX = 4095;

/** Why `text` cannot be one argument of a line-based probe or command, or undefined. */
function unpassable(text: string): string | undefined {
  // NUL cannot be in an argv word at all; a newline would split a probe's line-per-fact output.
  if (text.includes('\0')) return 'contains a NUL byte';
  if (text.includes('\n')) return 'contains a newline';
  return undefined;
}

/** Why a path argument starting with ~ is refused, and the fix. */
export const TILDE_REFUSAL =
  'plumb does not expand ~ or ~user (Ansible expands it to the home directory on the host); write the home directory out, e.g. /home/deploy/.bashrc or "{{ ansible_user_dir }}/.bashrc"';

/** Why `path` is not an absolute, normalized path on the host, or undefined. */
function absolutePathProblem(path: string): string | undefined {
  const bad = unpassable(path);
  if (bad) return bad;
  // Ansible expands ~ on the host for the connecting or become user; plumb does not read that home
  // before planning, so a ~ path is refused with the fix rather than taken as a relative name.
  if (path.startsWith('~')) return `is not an absolute path: ${TILDE_REFUSAL}`;
  if (!path.startsWith('/')) return 'not an absolute path (it must start with /)';
  // A variable that adds ../ must not walk out of the directory the playbook names.
  if (path.split('/').some((s) => s === '.' || s === '..')) return 'not a normalized path (no . or .. segments)';
  if (Buffer.byteLength(path) > PATH_MAX) return `is longer than ${PATH_MAX} bytes`;
  return undefined;
}

/** A path on the host a module writes, edits or removes: absolute, clean, one line. */
export const pathSchema = z
  .string()
  .min(1)
  .superRefine((p, ctx) => {
    const problem = absolutePathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** One word or path that is not a module target (guards, chdir, a local src): no NUL, no newline. */
export const wordSchema = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    const problem = unpassable(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Text that may span lines but must reach a command line: a NUL cannot be passed. */
export const noNulSchema = z.string().refine((s) => !s.includes('\0'), { message: 'contains a NUL byte' });

/**
 * A user or group: a name by Debian's NAME_REGEX (widened to the upper case
 * system accounts such as Debian-exim use; no dots, which chown reads as
 * owner.group) or a numeric id. Never a leading -, a :, or whitespace, so it
 * can be neither an option nor an owner:group pair.
 */
const OWNER = /^(?:[A-Za-z_][A-Za-z0-9_-]{0,30}\$?|[0-9]{1,10})$/;
export const ownerSchema = z
  .string()
  .min(1)
  .refine((o) => OWNER.test(o), {
    message: 'not a user or group name (letters, digits, _ and -, starting with a letter or _, at most 32 characters) or a numeric id',
  });

/** Marks an issue that a template must not defer: the value is only valid written literally. */
export const LITERAL_ONLY = 'literal-only';

/** Ansible's free-form `command: postmap /etc/postfix/sasl_passwd` is accepted as `{ [key]: ... }`; the module declares the same key. */
export function freeForm<T extends z.ZodTypeAny>(key: string, object: T) {
  return z.preprocess((v) => (typeof v === 'string' ? { [key]: v } : v), object);
}
