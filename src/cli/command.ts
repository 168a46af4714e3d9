/** What one `plumb <command>` is: its help and its run function (one file per command). */
import { promptHidden } from './prompt.js';

/** Everything a command reads from or writes to its process: tests run commands in-process with their own. */
export interface Io {
  /** A line or block of output; a final newline is added when missing. */
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal that can draw live progress. */
  stderrIsTTY?: boolean;
  /** Ask for a secret (become password, key passphrase) without echo; absent when there is no terminal. */
  prompt?(question: string): Promise<string>;
}

export interface Command {
  name: string;
  /** Full `plumb <name> --help` text, with examples. */
  help: string;
  /** Returns the exit code; throws for errors (mapped in src/cli/errors.ts). */
  run(argv: string[], io: Io): Promise<number>;
}

/** A command as `plumb --help` lists it; `load` imports its file only when the command runs. */
export interface CommandEntry {
  name: string;
  /** One line for `plumb --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  stderr: (text) => void process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  env: process.env,
  // A getter: reading process.stderr sets up the stream, which `plumb --version` never needs.
  get stderrIsTTY() {
    return process.stderr.isTTY;
  },
  prompt: promptHidden,
};
