// Flat eslint config: typescript-eslint's recommended rules on every package's TypeScript, the typed
// rules that catch floating and misused promises, and limits that keep functions and files short:
// complexity 10, 60 lines a function (tests excepted), 400 lines a file (blank and comment lines
// not counted).
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'chaincode/evm/src/generated/**',
      'chaincode/evm/artifacts/**',
      '.bin/**',
      '.venv-fuzz/**',
      'network/.state/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['**/*.d.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.typecheck.json'], tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      complexity: ['error', 10],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['**/*.test.ts', '**/__tests__/**', '**/testing/**', 'test/src/**'],
    rules: { 'max-lines-per-function': 'off' },
  },
);
