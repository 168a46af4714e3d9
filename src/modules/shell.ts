/**
 * shell: like command, but `cmd` is a shell script run with /bin/sh -c, so
 * pipes, redirections and variables work. Guards and "will run" as command.
 */
import { z } from 'zod';
import { command } from '../quote.js';
import { guards, input, runModule } from './command.js';
import { freeForm, noNulSchema, wordSchema } from './common.js';

export const shellArgs = freeForm(
  'cmd',
  z.strictObject({
    cmd: noNulSchema.min(1).describe('a shell script, run with /bin/sh -c (pipes, redirections, variables)'),
    executable: wordSchema
      .refine((e) => e.startsWith('/'), { message: 'executable must be an absolute path, e.g. /bin/bash' })
      .optional()
      .describe('the shell that runs cmd, an absolute path (default /bin/sh)'),
    ...guards,
    ...input,
  }),
);

// /bin/sh explicitly: the remote login shell (often bash with a heavy rc file) is not what users target.
export const shell = runModule({
  name: 'shell',
  summary: 'run a shell script with /bin/sh -c; guards as command',
  schema: shellArgs,
  commandLine: (a) => command(a.executable ?? '/bin/sh', '-c', '--', a.cmd),
  display: (a) => a.cmd,
});
