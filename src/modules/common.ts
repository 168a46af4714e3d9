/** Argument pieces shared by several modules. */
import { z } from 'zod';

/**
 * File modes are quoted octal strings. YAML 1.2 reads `0600` as the decimal
 * number 600, so a number is refused with the fix rather than guessed at.
 */
export const modeSchema = z.unknown().transform((value, ctx) => {
  if (typeof value === 'number') {
    ctx.addIssue({
      code: 'custom',
      message: `mode must be a quoted octal string such as "0${String(value).padStart(3, '0')}": YAML reads ${value} as a decimal number`,
      params: { plumb: 'octal-mode' },
    });
    return z.NEVER;
  }
  if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: `mode must be a quoted octal string such as "0644", found ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return value.length === 3 ? `0${value}` : value;
});

export const pathSchema = z.string().min(1).refine((p) => p.startsWith('/') || p.includes('{{'), {
  message: 'must be an absolute path (starting with /)',
});

export const ownerSchema = z.string().min(1);

/** Ansible's free-form `command: postmap /etc/postfix/sasl_passwd` is accepted as `{ cmd: ... }`. */
export function freeForm<T extends z.ZodTypeAny>(object: T) {
  return z.preprocess((v) => (typeof v === 'string' ? { cmd: v } : v), object);
}
