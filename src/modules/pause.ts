/**
 * pause: waits `seconds` or `minutes`. plan does not wait (it changes nothing and sleeps
 * nothing); apply sleeps on the host (`sleep N`, one remote command), reports ok as Ansible
 * does, and counts no change. plumb never reads a terminal in the middle of a run, so a pause
 * that waits for a key press (`prompt`, or neither seconds nor minutes) is refused when the
 * playbook is checked. A pause is bounded to MAX_PAUSE_SECONDS; `--task-timeout` bounds it too.
 */
import { z } from 'zod';
import { defineModule } from './types.js';

/** One hour: a longer wait in the middle of a run belongs to a scheduler, not a playbook. */
export const MAX_PAUSE_SECONDS = 3600;

const NO_TERMINAL = 'plumb never reads a terminal in the middle of a run, so pause cannot wait for a key press: give `seconds` or `minutes`';

/** Ansible reads the number with int(): "5" and 5 are the same, and 1.5 is 1. */
const count = z.union([
  z.number().min(0).transform(Math.trunc),
  z
    .string()
    .regex(/^\s*\d+\s*$/, 'a whole number')
    .transform(Number),
]);

export const pauseArgs = z
  .strictObject({
    seconds: count.optional().describe('how many seconds to pause'),
    minutes: count.optional().describe('how many minutes to pause'),
    prompt: z.unknown().optional().describe(`refused: ${NO_TERMINAL}`),
    echo: z.boolean().optional().describe('only with a prompt, which plumb refuses'),
  })
  .superRefine((a, ctx) => {
    if (a.prompt !== undefined || a.echo !== undefined) ctx.addIssue({ code: 'custom', path: [a.prompt !== undefined ? 'prompt' : 'echo'], message: NO_TERMINAL });
    else if (a.seconds === undefined && a.minutes === undefined) ctx.addIssue({ code: 'custom', message: NO_TERMINAL });
    if (a.seconds !== undefined && a.minutes !== undefined) ctx.addIssue({ code: 'custom', message: 'parameters are mutually exclusive: minutes|seconds' });
    const total = (a.seconds ?? 0) + (a.minutes ?? 0) * 60;
    if (total > MAX_PAUSE_SECONDS) ctx.addIssue({ code: 'custom', message: `a pause is at most ${MAX_PAUSE_SECONDS} seconds in plumb (this one is ${total})` });
  });

export type PauseArgs = z.output<typeof pauseArgs>;

const seconds = (a: PauseArgs) => (a.minutes !== undefined ? a.minutes * 60 : (a.seconds ?? 0));

export const pause = defineModule<PauseArgs, Record<string, never>>({
  name: 'pause',
  summary: 'waits seconds or minutes at apply (plan does not wait); never prompts',
  schema: pauseArgs,
  differences: [
    '`prompt` (or a pause without seconds or minutes, which waits for a key press) is refused: plumb never reads a terminal in the middle of a run.',
    'A pause is at most one hour; the registered result has rc, stderr, user_input and echo but not start, stop, delta or stdout.',
  ],
  title: (args) => (args.minutes !== undefined ? `${String(args.minutes)} minutes` : args.seconds !== undefined ? `${String(args.seconds)} seconds` : ''),
  facts: () => ({}),
  plan(args) {
    const n = seconds(args);
    if (n === 0) return [];
    const what = args.minutes !== undefined ? `${args.minutes} minute${args.minutes === 1 ? '' : 's'}` : `${n} second${n === 1 ? '' : 's'}`;
    return [{ change: { summary: `will pause ${what}`, target: 'pause', wait: true }, steps: [{ kind: 'exec', command: `sleep ${n}`, describe: `pause ${what}` }] }];
  },
  registers: () => ({ rc: 0, stderr: '', user_input: '', echo: true }),
});
