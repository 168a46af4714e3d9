/** `plumb schema [playbook|inventory]`: JSON Schema for editors. */
import { jsonSchema, type SchemaKind } from '../config/jsonschema.js';
import type { Command } from './command.js';
import { EXIT, UsageError } from './errors.js';
import { parseCommand, pickOptions } from './options.js';

const options = pickOptions();

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of playbooks or inventories (for editors)',
  help: `Usage: plumb schema [playbook|inventory]

Prints JSON Schema (draft 2020-12) generated from plumb's own validation
schemas. Point yaml-language-server at it with a first line such as
  # yaml-language-server: $schema=./schemas/playbook.schema.json
The repository ships both files in schemas/.

Examples:
  plumb schema > playbook.schema.json
  plumb schema inventory > inventory.schema.json`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('schema', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError('expected at most one argument: playbook or inventory', 'schema');
    const kind = positionals[0] ?? 'playbook';
    if (kind !== 'playbook' && kind !== 'inventory') throw new UsageError(`unknown schema ${JSON.stringify(kind)}: expected playbook or inventory`, 'schema');
    io.stdout(JSON.stringify(jsonSchema(kind as SchemaKind), null, 2));
    return EXIT.ok;
  },
};
