// Lint rules that fail the build instead of relying on memory: typed
// typescript-eslint rules, and the layer rule (which folder may import which).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders under src/ that each folder must never import (the layers run one way). */
const forbidden = {
  engine: ['report', 'cli'],
  report: ['cli'],
  modules: ['engine', 'report', 'cli', 'config', 'inventory', 'transport'],
  template: ['config', 'inventory', 'engine', 'report', 'cli', 'modules', 'transport'],
  inventory: ['engine', 'report', 'cli', 'modules', 'transport'],
  config: ['engine', 'report', 'cli', 'transport'],
  transport: ['engine', 'report', 'cli', 'modules', 'template'],
};

const layerRules = Object.entries(forbidden).map(([folder, banned]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: banned.map((b) => ({ group: [`../${b}/*`, `../../${b}/*`], message: `src/${folder} must not import src/${b} (layers run one way; see README "Design")` })) },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'schemas/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['bin/*.js', 'eslint.config.js'] }, tsconfigRootDir: import.meta.dirname } },
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
);
