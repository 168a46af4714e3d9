/**
 * The relay as its own process, for `npm run fleet -- up`: the CLI exits but
 * the fleet stays up, so the relay runs detached (its PID is in the fleet's
 * state and `down` ends it). Accepted messages are appended as JSON lines to
 * the file given in the config, without the password.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { startRelay, type RelayConfig } from './relay.js';

const [configPath, messagesPath] = process.argv.slice(2);
if (!configPath || !messagesPath) {
  process.stderr.write('usage: relay-main.ts CONFIG.json MESSAGES.jsonl\n');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as RelayConfig;
const relay = await startRelay(cfg, (m) => appendFileSync(messagesPath, JSON.stringify(m) + '\n'));
const quit = () => void relay.close().then(() => process.exit(0));
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
