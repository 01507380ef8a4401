const base = require('./eslint.config.js');
const tseslint = require(require.resolve('typescript-eslint', { paths: ['/work/main'] }));
module.exports = [
  ...base,
  {
    files: ['**/*.ts'],
    ignores: ['**/*.d.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.typecheck.json'], tsconfigRootDir: '/work/main' } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      complexity: ['error', 10],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  { files: ['**/*.test.ts', '**/__tests__/**', '**/testing/**', 'test/src/**'], rules: { 'max-lines-per-function': 'off' } },
];
