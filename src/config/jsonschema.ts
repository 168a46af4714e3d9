/**
 * JSON Schema for editors (yaml-language-server), generated from the same zod
 * schemas validation uses. Validation itself walks the document by hand for
 * better messages; this composes the same pieces into one schema.
 */
import { z } from 'zod';
import { argSchemas, moduleNames, modules } from '../modules/args.js';
import { modeWordsOf } from '../modules/common.js';
import { moduleSpellings, objectSchemaOf } from './ansible-task.js';
import { playKeywords, taskKeywords } from './schema.js';
import { connectionKeys } from '../inventory/schema.js';

const SCHEMA_BASE = 'https://plumb.invalid/schemas';

function moduleArgs(name: keyof typeof argSchemas): z.ZodType {
  const s = argSchemas[name] as z.ZodType;
  // Every module also takes Ansible's key=value string (`service: name=postfix state=started`), free form for command and shell.
  return z.union([z.string().min(1), s]);
}

function taskSchema(kind: 'task' | 'handler'): z.ZodType {
  const keywords = Object.fromEntries(Object.entries(taskKeywords).map(([k, s]) => [k, kind === 'handler' && k === 'name' ? s : (s as z.ZodType).optional()]));
  const ansible = { args: z.record(z.string(), z.unknown()).optional(), ...(kind === 'handler' ? { listen: taskKeywords.notify.optional() } : {}) };
  const variants: z.ZodType[] = moduleNames.flatMap((m) =>
    moduleSpellings()
      .filter((key) => key === m || key.endsWith(`.${m}`))
      .map((key) => z.strictObject({ ...keywords, ...ansible, [key]: moduleArgs(m) }).describe(`a ${kind} using the ${m} module: ${modules[m].summary}`)),
  );
  if (kind !== 'task') return z.union(variants as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  // A block's sections are task lists again: one schema, referred to from inside itself.
  taskOrBlock ??= z.union([...variants, ...blockAndMeta(keywords)] as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  return taskOrBlock;
}

let taskOrBlock: z.ZodType | undefined;

/** A block (its sections are task lists again) and a meta task. */
function blockAndMeta(keywords: Record<string, z.ZodType>): z.ZodType[] {
  const { name, when, tags, notify, become, become_user, ignore_errors, run_once, delegate_to, any_errors_fatal, ignore_unreachable } = keywords;
  const inherited = { name, when, tags, notify, become, become_user, ignore_errors, run_once, delegate_to, any_errors_fatal, ignore_unreachable };
  const block: z.ZodType = z
    .strictObject({
      ...inherited,
      vars: z.record(z.string(), z.unknown()).nullable().optional(),
      get block(): z.ZodType {
        return z.array(taskOrBlock!).nullable();
      },
      get rescue(): z.ZodType {
        return z.array(taskOrBlock!).nullable().optional();
      },
      get always(): z.ZodType {
        return z.array(taskOrBlock!).nullable().optional();
      },
    })
    .describe('a block: tasks with a rescue (runs if one fails) and always (runs anyway); its keywords apply to each task');
  const meta = z.strictObject({ name, when, tags, meta: z.enum(['flush_handlers', 'end_host', 'end_play', 'noop']) }).describe('a meta action');
  return [block, meta];
}

/** Ansible's aliases of a module's arguments, as properties beside the argument (either may be given). */
function addAliases(zodSchema: unknown, json: Record<string, unknown>): void {
  for (const m of moduleNames) {
    const aliases = Object.entries(modules[m].aliases ?? {});
    if (!aliases.length || objectSchemaOf(argSchemas[m] as z.ZodType) !== zodSchema) continue;
    const properties = json.properties as Record<string, unknown>;
    const required = (json.required as string[] | undefined) ?? [];
    for (const [alias, arg] of aliases) properties[alias] = properties[arg];
    const either = required.filter((r) => aliases.some(([, arg]) => arg === r));
    if (!either.length) continue;
    json.required = required.filter((r) => !either.includes(r));
    json.allOf = either.map((r) => ({ anyOf: [r, ...aliases.filter(([, arg]) => arg === r).map(([alias]) => alias)].map((k) => ({ required: [k] })) }));
  }
}

export function playbookZod(): z.ZodType {
  const play = z.strictObject({
    ...Object.fromEntries(Object.entries(playKeywords).map(([k, s]) => [k, k === 'hosts' ? s : (s as z.ZodType).optional()])),
    tasks: z.array(taskSchema('task')).nullable().optional(),
    handlers: z.array(taskSchema('handler')).nullable().optional(),
  });
  return z.array(play).min(1).describe('A plumb playbook: a list of plays');
}

export function inventoryZod(): z.ZodType {
  const vars = z.looseObject(Object.fromEntries(Object.entries(connectionKeys).map(([k, s]) => [k, (s as z.ZodType).optional()])));
  const group: z.ZodType = z.strictObject({
    hosts: z.record(z.string(), vars.nullable()).nullable().optional(),
    vars: vars.nullable().optional(),
    get children(): z.ZodType {
      return z.record(z.string(), group.nullable()).nullable().optional();
    },
  });
  return z.record(z.string(), group.nullable()).describe('A plumb inventory (Ansible YAML shape): all: {hosts, vars, children}');
}

export type SchemaKind = 'playbook' | 'inventory';

export function jsonSchema(kind: SchemaKind): Record<string, unknown> {
  const schema = kind === 'playbook' ? playbookZod() : inventoryZod();
  const out = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    // A playbook names each module's arguments several times (copy, ansible.builtin.copy, ...): define them once.
    reused: kind === 'playbook' ? 'ref' : 'inline',
    override: (ctx) => {
      // A mode schema is a transform; editors should see what it accepts.
      addAliases(ctx.zodSchema, ctx.jsonSchema as Record<string, unknown>);
      const words = modeWordsOf(ctx.zodSchema);
      if (words) {
        // A template ("{{ file_mode }}") is checked once rendered, as validation does.
        Object.assign(ctx.jsonSchema, {
          type: 'string',
          pattern: `^(0?[0-7]{3,4}|[ugoa]*([-+=][rwxXstugo]*)+(,[ugoa]*([-+=][rwxXstugo]*)+)*${words.map((w) => `|${w}`).join('')}|.*\\{\\{.*)$`,
          description: `file mode: octal as a quoted string ("0644") or symbolic ("u=rw,g=r,o=")${words.map((w) => ` or ${w}`).join('')}`,
        });
      }
    },
  }) as Record<string, unknown>;
  return { $id: `${SCHEMA_BASE}/${kind}.schema.json`, title: `plumb ${kind}`, ...out };
}
