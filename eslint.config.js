// Lint rules that fail the build instead of relying on memory: typed
// typescript-eslint rules, and the layer rule (which folder may import which).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const folders = ['source', 'template', 'inventory', 'facts', 'modules', 'transport', 'config', 'engine', 'report', 'cli'];
/** The folders each folder may import (src/*.ts leaves are open to all); everything else is forbidden. */
const allowed = {
  source: [],
  template: ['source'],
  inventory: ['source'],
  facts: [],
  modules: ['facts', 'template'],
  transport: ['inventory'],
  config: ['source', 'template', 'inventory', 'modules'],
  engine: ['config', 'inventory', 'modules', 'facts', 'template', 'transport'],
  report: ['engine'],
};
const forbidden = Object.fromEntries(Object.entries(allowed).map(([f, ok]) => [f, folders.filter((x) => x !== f && !ok.includes(x))]));

const layerRules = Object.entries(forbidden).map(([folder, banned]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: banned.map((b) => ({ group: [`../${b}/*`, `../../${b}/*`], message: `src/${folder} must not import src/${b} (layers run one way; see README "Design")` })) },
    ],
  },
}));

/** The shared leaves (src/*.ts) import no folder. */
const leafRule = {
  files: ['src/*.ts'],
  rules: {
    'no-restricted-imports': ['error', { patterns: folders.map((b) => ({ group: [`./${b}/*`], message: `src/*.ts are shared leaves and must not import src/${b}` })) }],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'schemas/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js', 'scripts/*.js', 'eslint.config.js', 'test/module-trace.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-control-regex': 'off',
    },
  },
  // Plain JS entry points run on Node.
  { files: ['**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  ...layerRules,
  leafRule,
);
