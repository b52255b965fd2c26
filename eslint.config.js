// Type-aware checks for promises that are neither awaited nor handled: a
// floating promise in a request handler or job loses errors and ordering.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', '.wrangler/**', '*.config.ts', '*.config.js'] },
  {
    files: ['src/**/*.{ts,tsx}', 'handlers/**/*.{ts,tsx}', 'queues/**/*.ts', 'db/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
);
