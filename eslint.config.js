// Lint rules for every TypeScript file we write (npm run lint; .ci/run runs it before the tests).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/board/*.js', 'test/tmp-*/**', '.state/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The 120-column rule of the house, for strings, templates and comments too (prettier wraps neither); a line that
    // is one long URL may pass.
    rules: { 'max-len': ['error', { code: 120, ignoreUrls: true }] },
  },
  {
    // Plain scripts (fixtures, the web build) run on Node.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setInterval: 'readonly',
        setTimeout: 'readonly',
        setImmediate: 'readonly',
        clearInterval: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      // Unused names are errors, except a deliberately ignored `_name`.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // `catch {}` that ignores a failure on purpose (a best-effort cleanup) is allowed;
      // an empty block elsewhere is not.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
);
