// The lint gate (`npm run lint`, run by .ci/run before the tests). Type-aware rules catch what tsc
// does not: promises nobody awaits, `any` leaking through a boundary, async callbacks where a
// sync one is expected. Formatting is prettier's job, not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '**/fixtures/**', 'bench/results/', 'charts/', '.tidemark/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // prettier wraps code; this catches what it cannot wrap (long strings and comments).
      'max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'PrivateIdentifier',
          message: 'Use the TypeScript `private` modifier: one style of privacy in the house.',
        },
      ],
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself tracks.
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
    },
  },
  // An ES import of node:http loads Node's bundled undici and http2 (~8 MiB resident per program):
  // programs take it from shared/http/node-http.ts. Tests may import it.
  {
    files: ['agent/**/*.ts', 'cli/**/*.ts', 'console/**/*.ts', 'image-updater/**/*.ts', 'notification/**/*.ts', 'shared/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'http'].map((name) => ({
            name,
            allowTypeImports: true,
            message: 'Use nodeHttp from shared/http/node-http.ts: an ES import of node:http loads undici and http2.',
          })),
        },
      ],
    },
  },
  // Config files are plain JavaScript outside the TypeScript project.
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The console's browser modules: served as they are (no bundler), so they see the browser's globals.
  {
    files: ['console/assets/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          ...['document', 'location', 'fetch', 'EventSource', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setInterval', 'console'],
          ...['window', 'AbortController'],
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
