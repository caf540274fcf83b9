import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Which layers each layer may import (DEVELOPERS.md): checked here so a breach fails `npm test`. */
const layerRules = [
  { files: ['src/domain/**'], forbid: ['**/core/**', '**/store/**', '**/api/**', '**/executors/**', '**/agent/**', '**/cli/**', '**/config.js', '**/main.js', 'fastify', 'pg', 'better-sqlite3'] },
  { files: ['src/core/**'], forbid: ['**/store/**', '**/api/**', '**/executors/**', '**/agent/**', '**/cli/**', '**/main.js', 'fastify', 'pg', 'better-sqlite3'] },
  { files: ['src/store/**'], forbid: ['**/api/**', '**/executors/**', '**/agent/**', '**/cli/**', '**/main.js', 'fastify'] },
  { files: ['src/api/**'], forbid: ['**/store/**', '**/executors/**', '**/agent/**', '**/cli/**', 'pg', 'better-sqlite3'] },
  { files: ['src/agent/**'], forbid: ['**/store/**', '**/api/**', '**/cli/**', 'pg', 'better-sqlite3', 'fastify'] },
  { files: ['src/executors/**'], forbid: ['**/core/**', '**/store/**', '**/api/**', '**/agent/**', '**/cli/**', '**/config.js', '**/main.js', 'fastify', 'pg', 'better-sqlite3'] },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  ...layerRules.map(({ files, forbid }) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbid, message: 'This import crosses a layer boundary (see DEVELOPERS.md).' }] }] },
  })),
  { files: ['bench/**', 'test/**', 'src/cli/**'], rules: { 'no-console': 'off' } },
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
