/**
 * The entry point of dist/bundle/plumb.cjs (scripts/bundle.ts): the CLI, plus one hook for
 * the build's warm-up (scripts/warm-code-cache.js), which runs commands in one process and
 * then saves V8's code cache, so a user's run starts from compiled code.
 */
export { main, run } from './main.js';

/**
 * Loads what only an ssh host needs (ssh2 and plumb's transport over it) without connecting
 * anywhere: the warm-up has no host to reach, and an ssh connection is the one part of a plan
 * its local-connection plan cannot exercise.
 */
export async function loadSshTransport(): Promise<void> {
  await import('../transport/ssh.js');
}
