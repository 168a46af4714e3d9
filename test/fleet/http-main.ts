/**
 * The test file server as its own process (test/fleet/http.ts startFileServerProcess), for a
 * caller that blocks its event loop while the host downloads (the oracle harness runs
 * ansible-playbook synchronously). Prints its URL on the first line of stdout.
 */
import { startFileServer } from './http.js';

const [root, host] = process.argv.slice(2);
if (!root || !host) {
  process.stderr.write('usage: http-main.ts ROOT HOST\n');
  process.exit(2);
}
const server = await startFileServer(root, host);
process.stdout.write(`${server.url}\n`);
const quit = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
