// Flat eslint config: typescript-eslint's recommended rules on every package's TypeScript.
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'chaincode/evm/src/generated/**',
      'chaincode/evm/artifacts/**',
      '.bin/**',
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
);
