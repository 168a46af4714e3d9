/**
 * plumb's entry point: one registry of commands, each in its own file.
 * Adding a command is one entry in `commands`. A command's file (and all it
 * imports: zod, yaml, ssh2, listr2…) loads only when that command runs, so
 * `plumb --version` and `plumb --help` start as fast as node itself.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closest } from '../source/suggest.js';
import { processIo, type CommandEntry, type Io } from './command.js';
import { EXIT } from '../errors.js';
import { reportError, UsageError } from './errors.js';

export const commands: CommandEntry[] = [
  { name: 'plan', summary: 'show what apply would change on each host (a dry run; changes nothing)', load: async () => (await import('./plan.js')).planCommand },
  { name: 'apply', summary: 'converge hosts to the playbook, or apply a saved plan exactly', load: async () => (await import('./apply.js')).applyCommand },
  { name: 'merge', summary: 'join shard plans (or shard recaps) into one review document and one saved plan', load: async () => (await import('./merge.js')).mergeCommand },
  { name: 'validate', summary: 'check a playbook and inventory offline (contacts nothing)', load: async () => (await import('./validate.js')).validateCommand },
  { name: 'inventory', summary: 'show resolved hosts, groups and variables (secrets redacted)', load: async () => (await import('./inventory.js')).inventoryCommand },
  { name: 'schema', summary: 'print the JSON Schema of playbooks, inventories or JSON plans', load: async () => (await import('./schema.js')).schemaCommand },
];

function version(): string {
  // package.json sits two levels up from both src/cli and dist/cli.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      return JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')).version as string;
    } catch {
      // try the next layout
    }
  }
  return 'unknown';
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `plumb ${version()} — make hosts match YAML playbooks over SSH: plan, review, apply

Usage: plumb COMMAND [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "plumb COMMAND --help" for a command's options and examples.

Options:
  -h, --help     this help
      --version  print the version
  -v, --verbose  stack traces for unexpected errors`;
}

/** Run plumb with `argv` (without node and the script); returns the exit code. Never throws. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      if (first === 'help' && rest[0]) return run([rest[0], '--help'], io);
      io.stdout(usage());
      return first === undefined ? EXIT.error : EXIT.ok;
    }
    if (first === '--version' || first === '-V') {
      io.stdout(version());
      return EXIT.ok;
    }
    const command = commands.find((c) => c.name === first);
    if (!command) {
      if (first.startsWith('-')) throw new UsageError(`expected a command before ${first}`);
      const near = closest(
        first,
        commands.map((c) => c.name),
        1,
      );
      throw new UsageError(`unknown command "${first}"${near.length ? ` (did you mean "${near[0]}"?)` : `; commands: ${commands.map((c) => c.name).join(', ')}`}`);
    }
    return await (await command.load()).run(rest, io);
  } catch (err) {
    const report = reportError(err, { verbose });
    io.stderr(report.text);
    return report.code;
  }
}

/** Called by bin/plumb.js. */
export async function main(): Promise<void> {
  // `plumb schema | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  process.exitCode = await run(process.argv.slice(2));
}
