// Lint: typescript-eslint's recommended rules plus Nx module boundaries. Every project carries a
// `type:` and a `scope:` tag (package.json "nx.tags"); the constraints below say which tags may
// depend on which, and there is deliberately no "*" → "*" rule: an untagged dependency fails.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const scopes = ['shared', 'ingest', 'sequencing', 'modelling', 'embedding', 'training', 'scoring'];

// The process environment is read in one place, @seqrec/config (loadEnv validates every variable
// against its spec); everything else gets its values from there, as a validated env or options.
const envMessage = 'read the environment through @seqrec/config (a spec + loadEnv), or take the value as an option';
/** Where process.env may be used besides libs/config, and why. */
const ENV_ALLOWED = {
  // tests and their helpers pass the test run's Kafka, Redis and log folder to what they start
  'test helpers': ['**/*.spec.ts', 'test/src/**', 'libs/testing/src/**', 'libs/*/src/testing/**'],
  // BENCH_* knobs, and the environment the benchmarks give the processes they measure
  'benchmark parameters': ['bench/src/**'],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'test/logs/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:ingest', onlyDependOnLibsWithTags: ['scope:ingest', 'scope:shared'] },
            { sourceTag: 'scope:sequencing', onlyDependOnLibsWithTags: ['scope:sequencing', 'scope:shared'] },
            { sourceTag: 'scope:modelling', onlyDependOnLibsWithTags: ['scope:modelling', 'scope:shared'] },
            { sourceTag: 'scope:embedding', onlyDependOnLibsWithTags: ['scope:embedding', 'scope:modelling', 'scope:shared'] },
            { sourceTag: 'scope:training', onlyDependOnLibsWithTags: ['scope:training', 'scope:modelling', 'scope:shared'] },
            { sourceTag: 'scope:scoring', onlyDependOnLibsWithTags: ['scope:scoring', 'scope:modelling', 'scope:shared'] },
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: scopes.map((s) => `scope:${s}`) },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['libs/config/src/**', ...Object.values(ENV_ALLOWED).flat()],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: envMessage }],
      'no-restricted-imports': ['error', { paths: ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: envMessage })) }],
    },
  },
);
