/**
 * debconf: preseed one debconf question of a package, as Ansible's debconf
 * module does: the current value is read with `debconf-show` (shipped by
 * debconf itself: no debconf-utils needed) and set with
 * `debconf-set-selections` (also debconf's), the line given on stdin so a
 * value never reaches a command line. A `password` question is a secret:
 * debconf-show never prints one, so — exactly like Ansible — it cannot be
 * compared and is set (and reported changed) on every run; its value never
 * appears in a plan, a step description or a log.
 */
import { z } from 'zod';
import { type DebconfQuestion, debconfShowOf } from '../facts/debconf.js';
import { SBIN_PATH } from '../facts/types.js';
import { defineModule, known, type ModuleContext, type Planned } from './types.js';

const VTYPES = ['boolean', 'error', 'multiselect', 'note', 'password', 'seen', 'select', 'string', 'text', 'title'] as const;

/** A package or question name: one word, never an option, nothing that splits debconf-set-selections' line. */
const WORD = /^[A-Za-z0-9][A-Za-z0-9+._/:-]*$/;

const debconfArgs = z
  .strictObject({
    name: z
      .string()
      .regex(WORD, { message: 'not a package name (one word of letters, digits and + . _ / : -)' })
      .describe('the package that owns the question (debconf-show NAME)'),
    question: z
      .string()
      .regex(WORD, { message: 'not a debconf question name (one word, such as postfix/main_mailer_type)' })
      .optional()
      .describe('the question to set, such as postfix/main_mailer_type'),
    vtype: z.enum(VTYPES).optional().describe("the question's type; password values are secrets (never shown, set every run as in Ansible)"),
    // Ansible's value is a string: YAML true/false/numbers become Ansible's str() of them.
    value: z
      .union([z.string(), z.boolean(), z.number()])
      .transform((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)))
      .refine((v) => !v.includes('\n') && !v.includes('\0'), { message: 'a debconf value is one line (no newline or NUL)' })
      .optional()
      .describe('the answer; booleans compare case-insensitively as debconf stores true/false'),
    unseen: z.boolean().default(false).describe('leave the question unseen (debconf-set-selections -u), so a later interactive configure still asks it'),
  })
  .refine((a) => (a.question === undefined) === (a.vtype === undefined) && (a.question === undefined) === (a.value === undefined), {
    message: 'question, vtype and value go together (without them, debconf only reads)',
  });

type DebconfArgs = z.output<typeof debconfArgs>;

/** Ansible sends booleans as debconf stores them. */
function valueToSet(args: DebconfArgs): string {
  const value = args.value as string;
  if (args.vtype === 'boolean' && (value === 'True' || value === 'False')) return value.toLowerCase();
  return value;
}

/** Whether the current value already is the wanted one, by Ansible's rule (booleans case-insensitively). */
function matches(args: DebconfArgs, current: DebconfQuestion | undefined): boolean {
  if (current === undefined || args.vtype === 'password') return false;
  if (args.vtype === 'boolean') return (args.value as string).toLowerCase() === current.value.toLowerCase();
  return args.value === current.value;
}

function plan(args: DebconfArgs, questions: Record<string, DebconfQuestion>, ctx: ModuleContext): Planned[] {
  if (args.question === undefined) return [];
  const current = questions[args.question];
  if (matches(args, current)) return [];
  const value = valueToSet(args);
  const secret = args.vtype === 'password' || ctx.hasSecret(value);
  const target = `debconf ${args.name} ${args.question}`;
  const line = `${args.name} ${args.question} ${args.vtype} ${value}\n`;
  const summary = secret
    ? `set ${args.question} (${args.vtype}; value hidden${args.vtype === 'password' ? ', set every run: debconf-show never shows a password' : ''})`
    : `set ${args.question}: ${current === undefined ? '(unset)' : JSON.stringify(current.value)} → ${JSON.stringify(value)}`;
  return [
    {
      change: secret ? { summary: ctx.redact(summary), target, secret: true } : { summary, target, before: current?.value ?? null, after: value },
      steps: [
        {
          kind: 'exec',
          command: `${SBIN_PATH}; debconf-set-selections${args.unseen ? ' -u' : ''}`,
          stdin: line,
          describe: `debconf-set-selections${args.unseen ? ' -u' : ''}: ${args.name} ${args.question} ${args.vtype}${secret ? '' : ` ${value}`}`,
        },
      ],
    },
  ];
}

export const debconf = defineModule<DebconfArgs, { questions: Record<string, DebconfQuestion> }>({
  name: 'debconf',
  summary: "preseed a package's debconf question (read with debconf-show, set with debconf-set-selections; passwords are secrets)",
  schema: debconfArgs,
  aliases: { pkg: 'name', selection: 'question', setting: 'question', answer: 'value' },
  title: (args) =>
    [args.name, args.question]
      .filter((x) => x !== undefined)
      .map(String)
      .join(' '),
  facts: (args) => ({ questions: debconfShowOf(args.name) }),
  plan: (args, facts, ctx) => plan(args, known(facts.questions), ctx),
});
