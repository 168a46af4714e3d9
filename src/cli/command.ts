/** What one `plumb <command>` is: its help and its run function (one file per command). */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  /** One line for `plumb --help`. */
  summary: string;
  /** Full `plumb <name> --help` text, with examples. */
  help: string;
  /** Returns the exit code; throws for errors (mapped in src/cli/errors.ts). */
  run(argv: string[], io: Io): Promise<number>;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  stderr: (text) => void process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  env: process.env,
};
