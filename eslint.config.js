// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first, and what each may import besides itself. A folder imports
 * only from the folders listed for it: lower layers never import higher ones (README, "How it is
 * built"). `cli` may import anything; nothing imports `cli`.
 */
export const LAYERS = {
  shared: [],
  json: ['shared'],
  iam: ['shared'],
  runtime: ['shared', 'iam'],
  store: ['shared', 'iam'],
  ingest: ['shared', 'json', 'iam', 'store'],
  granted: ['shared', 'json', 'iam'],
  query: ['shared', 'iam', 'store'],
  policy: ['shared', 'iam', 'runtime', 'store', 'granted'],
  compare: ['shared', 'iam', 'runtime', 'store', 'granted'],
  report: ['shared', 'iam', 'runtime', 'store', 'granted', 'query', 'policy', 'compare'],
  export: ['shared', 'iam', 'runtime', 'store', 'query', 'policy'],
  selftest: ['shared', 'iam', 'runtime', 'store', 'ingest', 'policy'],
};
const FOLDERS = [...Object.keys(LAYERS), 'cli'];

/** Only the CLI draws on a terminal or parses the command line. */
const CLI_ONLY = ['cli-table3', 'commander'].map((name) => ({
  name,
  message: 'Only src/cli talks to the terminal and parses options; core functions return data.',
}));

/**
 * Narrower doors inside an allowed layer: `ingest` writes to the store only through the writer's
 * interface (store/write/index.ts): the exactly-once rules live behind it (docs/store.md).
 */
const DOORS = {
  ingest: {
    regex: '^(\\.\\./)+store/(?!write/index\\.js$)',
    message:
      'src/ingest reaches the store only through its writer interface, ../store/write/index.js (docs/store.md): export what you need from there.',
  },
};

const layering = Object.entries(LAYERS).map(([layer, allowed]) => {
  const forbidden = FOLDERS.filter((f) => f !== layer && !allowed.includes(f));
  const door = DOORS[/** @type {keyof typeof DOORS} */ (layer)];
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: CLI_ONLY,
          patterns: [
            {
              regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
              message: `src/${layer} may import only from ${[layer, ...allowed].join(', ')}: lower layers never import higher ones (README, "How it is built").`,
            },
            ...(door ? [door] : []),
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      '**/*.d.ts',
      '**/node_modules/',
      'samples/generate/otel/raw/',
    ],
  },
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
  ...layering,
  {
    // SQL text lives in src/store and src/query only: everything else asks them for data.
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/query/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.type='MemberExpression'][callee.property.name=/^(prepare|exec|pragma)$/][arguments.0.type=/^(Literal|TemplateLiteral)$/]",
          message: 'SQL belongs in src/store or src/query: add a function there and call it.',
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'tools/**', 'samples/generate/**', 'test/**'],
    rules: { 'no-console': 'off', 'no-restricted-properties': 'off' },
  },
);
