// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only the CLI layer may talk to the terminal or end the process.
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Only src/cli may call process.exit' },
      ],
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'samples/generate/**', 'test/**'],
    rules: { 'no-console': 'off', 'no-restricted-properties': 'off' },
  },
);
