/**
 * docs/modules.md, generated from the modules' own declarations (`npm run
 * docs`); a test fails when the file is stale. Nothing here is written by hand
 * per module.
 */
import { z } from 'zod';
import { facts } from '../facts/index.js';
import { moduleNames, modules } from './index.js';
import { ANSIBLE_COMMAND_OPTIONS } from './command.js';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  default?: unknown;
  description?: string;
};

/** A short type: `string`, `present | absent`, `string or list of string`. Transforms (mode) read as the string they take. */
function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => String(v)).join(' | ');
  if (s.const !== undefined) return String(s.const);
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return s.type ?? 'string';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function argumentRows(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = ['| argument | type | default | description |', '|---|---|---|---|'];
  if (json.properties) {
    const required = new Set(json.required ?? []);
    for (const [name, p] of Object.entries(json.properties)) {
      const deflt = p.default !== undefined ? `\`${JSON.stringify(p.default)}\`` : required.has(name) ? 'required' : '';
      rows.push(`| \`${name}\` | ${cell(typeOf(p))} | ${deflt} | ${cell(p.description ?? '')} |`);
    }
  } else if (json.additionalProperties && typeof json.additionalProperties === 'object') {
    const p = json.additionalProperties;
    rows.push(`| _any name_ | ${cell(typeOf(p))} |  | ${cell(p.description ?? '')} |`);
  }
  return rows;
}

export function modulesMarkdown(): string {
  const out = [
    '<!-- Generated from src/modules by `npm run docs`; edit the modules, not this file. -->',
    '# Modules',
    '',
    'Every module compares exactly what it manages, so a converged host shows no change. Values marked',
    "secret never appear in a plan: a secret file's change reads `content changed (secret)`.",
    '',
    "Ansible's spellings load as written: `ansible.builtin.<module>` and `ansible.legacy.<module>` name the",
    "module of that name (postconf is plumb's own and has no such name); every module takes a `key=value`",
    'string (`service: name=postfix state=restarted`, values read as Ansible reads them and converted to the',
    "argument's type: `yes`/`no` for a boolean, a number, a comma-separated list) and the `args:` keyword;",
    "the aliases below are Ansible's other names for an argument. An unquoted `mode: 0644` is octal, as",
    'in Ansible; `mode: 644` is refused (Ansible would apply the decimal number 644, mode 01204).',
    'Every path argument is absolute: `~` and `~user` are not expanded (Ansible expands them on the host)',
    'and are refused with the fix (write the home out, or `{{ ansible_user_dir }}`); `$VAR` in a path is',
    'literal (Ansible expands it).',
    '',
    "Ansible is the oracle: test/modules/oracle/cases holds tasks in Ansible's spelling that `ansible-playbook`",
    'and plumb each run twice on identical scratch directories; the files (type, mode, owner, bytes, link',
    'targets) and ok/changed/failed must match (test/e2e/module-oracle.test.ts). Modules that change the',
    'system run the same way on twin Debian fleet hosts instead, one per tool, comparing what an observe',
    'script prints (test/modules/oracle/fleet-cases, test/e2e/module-fleet-oracle.test.ts). Where a module',
    'knowingly differs, its section says so under "Differences from Ansible", and',
    'test/modules/oracle/known-differences.yaml or fleet-known-differences.yaml lists the cases that show it.',
    '',
    '| module | what it manages |',
    '|---|---|',
    ...moduleNames.map((n) => `| [\`${n}\`](#${n}) | ${cell(modules[n].summary)} |`),
    '',
  ];
  for (const n of moduleNames) {
    const m = modules[n];
    out.push(`## ${n}`, '', `${m.summary}.`, '');
    const schema = m.schema as z.ZodType;
    if (m.freeForm) {
      out.push(
        `Free form: \`${n}: TEXT\` is \`${n}: { ${m.freeForm}: TEXT }\`; as in Ansible, \`key=value\` words naming one of ${ANSIBLE_COMMAND_OPTIONS.map((o) => `\`${o}\``).join(', ')} are taken out as those arguments (plumb has creates, removes, chdir, stdin, stdin_add_newline, and executable for shell).`,
        '',
      );
    }
    const aliases = Object.entries(m.aliases ?? {});
    if (aliases.length) out.push(`Ansible's aliases: ${aliases.map(([alias, arg]) => `\`${alias}\` for \`${arg}\``).join(', ')}.`, '');
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    if (json.description) out.push(`${json.description}.`, '');
    const rows = argumentRows(schema);
    // A module without arguments (service_facts) says so instead of an empty table.
    out.push(...(rows.length > 2 ? rows : ['Takes no arguments.']), '');
    if (m.differences?.length) out.push('Differences from Ansible:', '', ...m.differences.map((d) => `- ${d}`), '');
  }
  out.push(
    '## How a module works (for contributors)',
    '',
    'A module is one file, `src/modules/<name>.ts`, plus one entry in the list in `src/modules/index.ts`.',
    'It declares its argument schema (zod, strict, `.describe()` on every field), a one-line `summary`, a',
    '`title` for tasks without a name, its `freeForm` argument if it takes one, the `facts` it reads, and one',
    'pure `plan(args, facts, ctx)` that returns each change (summary, structured before/after, secret',
    'marking) with the exact steps that make it: shell commands, or atomic file writes done by the',
    'transport. A module that batches (apt installs every package in one call; postconf sets every key in',
    'one checked edit) returns `batch` steps and combines them in `merge`. A fact it needs that is',
    'unknown makes the task "may change" (`known(facts.x)`); a task that cannot be carried out throws',
    '`ModuleError`. Every value reaches the shell through `quote()` in src/quote.ts. Validation, the',
    'JSON Schema, default task names and this page all come from the declaration.',
    '',
    'Facts (`src/facts/`) are named readers of host state: a read-only sh snippet and a parser, keyed by',
    'their parameters. The planner reads each distinct fact once per host, all in one batched script per',
    "`become` setting; apply reads a task's facts again just before changing it.",
    '',
    '| fact | reads |',
    '|---|---|',
    ...Object.values(facts).map((f) => `| \`${f.name}\` | ${cell(f.summary)} |`),
    '',
    'Cases are data: `test/facts/cases/<fact>/*.yaml` holds probe output in and the value out;',
    '`test/modules/cases/<module>/*.yaml` holds arguments and fact output in, and fact values, change',
    'summaries and step commands out. Each module also has an entry in test/e2e/conformance.test.ts.',
    '',
  );
  return out.join('\n');
}
