// Records every module a process loads: `node --import ./test/module-trace.js …` with
// MODULE_TRACE_FILE set writes their URLs there, one a line, when the process exits.
// The same file is the loader hook (it runs in the loader's thread) and its registration.
import { register } from 'node:module';
import { isMainThread, MessageChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';

let port;

/** Loader thread: report each module as it loads. */
export function initialize(data) {
  port = data.port;
}
export async function load(url, context, next) {
  const result = await next(url, context);
  port?.postMessage(url);
  return result;
}

const out = process.env.MODULE_TRACE_FILE;
if (isMainThread && out && !port) {
  const { port1, port2 } = new MessageChannel();
  const urls = [];
  port1.on('message', (url) => urls.push(url));
  port1.unref();
  register(import.meta.url, { data: { port: port2 }, transferList: [port2] });
  process.on('exit', () => writeFileSync(out, urls.join('\n') + '\n'));
}
