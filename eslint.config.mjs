// Lint: typescript-eslint's recommended rules plus Nx module boundaries. Every project carries a
// `type:` and a `scope:` tag (package.json "nx.tags"); the constraints below say which tags may
// depend on which, and there is deliberately no "*" → "*" rule: an untagged dependency fails.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Scopes are layers, lowest first; each is a folder of libs/ (libs/<scope>/<library>, checked by
// scripts/lint-layout.mjs). A library depends only on its own layer and the ones below; `system`
// (the embedded app, the end-to-end tests, the benchmarks) may use every layer.
const layers = ['core', 'platform', 'pipeline', 'ml', 'serving'];
const below = { core: [], platform: ['core'], pipeline: ['platform', 'core'], ml: ['platform', 'core'], serving: ['ml', 'platform', 'core'] };

// The process environment is read in one place, @seqrec/config (loadEnv validates every variable
// against its spec); everything else gets its values from there, as a validated env or options.
const envMessage = 'read the environment through @seqrec/config (a spec + loadEnv), or take the value as an option';
/** Where process.env may be used besides libs/platform/config, and why. */
const ENV_ALLOWED = {
  // tests and their helpers pass the test run's Kafka, Redis and log folder to what they start
  'test helpers': ['**/*.spec.ts', 'test/src/**', 'libs/platform/testing/src/**', 'libs/*/*/src/testing/**'],
  // BENCH_* knobs, and the environment the benchmarks give the processes they measure
  'benchmark parameters': ['bench/src/**'],
};

// Which tags and layers may depend on which (@nx/enforce-module-boundaries).
const boundaries = {
  enforceBuildableLibDependency: false,
  depConstraints: [
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:contracts', 'type:util'] },
    { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
    { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
    { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:contracts', 'type:util'] },
    ...layers.map((l) => ({ sourceTag: `scope:${l}`, onlyDependOnLibsWithTags: [l, ...below[l]].map((s) => `scope:${s}`) })),
    { sourceTag: 'scope:system', onlyDependOnLibsWithTags: layers.map((s) => `scope:${s}`) },
  ],
};

// A library's integration tests may use the Kafka adapter and its test helpers (topics, readTopic)
// whatever the library's own type: `@seqrec/generator` (a util) tests its Kafka sink against the broker.
const TEST_ONLY_IMPORTS = ['@seqrec/kafka', '@seqrec/kafka/testing'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'test/logs/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', { ...boundaries, allow: [] }],
    },
  },
  {
    files: ['libs/**/*.int.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', { ...boundaries, allow: TEST_ONLY_IMPORTS }] },
  },
  {
    files: ['**/*.ts'],
    ignores: ['libs/platform/config/src/**', ...Object.values(ENV_ALLOWED).flat()],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: envMessage }],
      'no-restricted-imports': ['error', { paths: ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: envMessage })) }],
    },
  },
);
