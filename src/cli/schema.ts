/** `plumb schema [playbook|inventory|plan]`: JSON Schema for editors and for tools reading plans. */
import { jsonSchema, type SchemaKind } from '../config/jsonschema.js';
import { planJsonSchema } from '../engine/plan-schema.js';
import type { Command } from './command.js';
import { EXIT } from '../errors.js';
import { UsageError } from './errors.js';
import { parseCommand, pickOptions } from './options.js';

const options = pickOptions();

export const schemaCommand: Command = {
  name: 'schema',
  help: `Usage: plumb schema [playbook|inventory|plan]

Prints JSON Schema (draft 2020-12) generated from plumb's own validation
schemas. Point yaml-language-server at it with a first line such as
  # yaml-language-server: $schema=./schemas/playbook.schema.json
The repository ships them in schemas/. "plumb schema plan" describes the
document of "plumb plan --format json" and "--out PLAN.json" (format
plumb-plan, version 2).

Examples:
  plumb schema > playbook.schema.json
  plumb schema inventory > inventory.schema.json
  plumb schema plan > plan.schema.json`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('schema', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError('expected at most one argument: playbook, inventory or plan', 'schema');
    const kind = positionals[0] ?? 'playbook';
    if (kind === 'plan') {
      io.stdout(JSON.stringify(planJsonSchema(), null, 2));
      return EXIT.ok;
    }
    if (kind !== 'playbook' && kind !== 'inventory') throw new UsageError(`unknown schema ${JSON.stringify(kind)}: expected playbook, inventory or plan`, 'schema');
    io.stdout(JSON.stringify(jsonSchema(kind as SchemaKind), null, 2));
    return EXIT.ok;
  },
};
