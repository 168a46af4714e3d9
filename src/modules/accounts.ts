/**
 * Argument pieces the account modules (user, group, authorized_key) share.
 */
import { z } from 'zod';

/**
 * A user or group name as shadow's tools take it: starts with a letter or _, then letters,
 * digits, _ . -, an optional trailing $ (Samba machine accounts), at most 32 characters.
 * Never a leading - (an option), never all digits (getent would read a uid), never a : , or
 * whitespace (fields and lists of /etc/passwd and /etc/group).
 */
const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$/;
export const accountNameSchema = z
  .string()
  .refine((n) => ACCOUNT_NAME.test(n), { message: 'not a user or group name (a letter or _, then letters, digits, _ . -, at most 32 characters)' });

/** A uid or gid: a number, or its digits as text (Ansible's int type takes both). */
export const idSchema = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,10}$/, 'not a numeric id')])
  .transform((v) => Number(v))
  .refine((n) => n <= 4294967294, { message: 'ids stop at 4294967294' });

/** One field of /etc/passwd: no : and no newline. */
export const passwdFieldSchema = z.string().refine((s) => !/[:\n\0]/.test(s), { message: 'cannot hold a colon, a newline or a NUL (it is one field of /etc/passwd)' });

/** Python's str.splitlines(): the line boundaries Ansible's modules split text on. */
export function pySplitLines(text: string, keepEnds = false): string[] {
  const out: string[] = [];
  const boundary = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let start = 0;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    out.push(text.slice(start, keepEnds ? m.index + m[0].length : m.index));
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
