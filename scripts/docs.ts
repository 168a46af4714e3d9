/** npm run docs: writes docs/modules.md from the modules' declarations. */
import { writeFileSync } from 'node:fs';
import { modulesMarkdown } from '../src/modules/docs.js';

writeFileSync(new URL('../docs/modules.md', import.meta.url), modulesMarkdown());
