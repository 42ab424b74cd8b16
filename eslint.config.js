import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import stylistic from '@stylistic/eslint-plugin'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'logs/**', 'certs/**', 'bench/results/**', 'soak/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', setImmediate: 'readonly' }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // process.env is read in one place only: the config loader
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment only in src/config/' }]
    }
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@stylistic/max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }] }
  },
  {
    files: ['src/config/**', 'bench/**', 'soak/**', 'bin/**', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' }
  },
  {
    // test files share a worker's module cache (vitest.config.ts: isolate false): a module mock
    // would leak into the files after it, or miss a module an earlier file loaded
    files: ['test/**'],
    rules: {
      'no-restricted-properties': ['error',
        ...['mock', 'doMock', 'unmock', 'resetModules'].map((property) => ({
          object: 'vi', property, message: 'test files share their module cache: wrap what the test observes instead'
        }))]
    }
  }
)
