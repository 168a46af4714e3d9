/** zod schemas of the inventory's connection settings, checked key by key in load.ts. */
import { z } from 'zod';

/** Connection settings (plumb's names for Ansible's ansible_* variables), allowed in host and group vars. */
export const connectionKeys = {
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  identity_file: z.string().min(1),
  jump: z.string().min(1),
  become_password_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as BECOME_PASS'),
  connection: z.enum(['ssh', 'local']),
} as const;
export type ConnectionKey = keyof typeof connectionKeys;
export const connectionKeyNames = Object.keys(connectionKeys) as ConnectionKey[];

export const groupKeywordNames = ['hosts', 'vars', 'children'] as const;
