import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/src/generated/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      // One file per idea: a file past 400 lines holds more than one.
      'max-lines': ['error', { max: 400 }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['@cistern/*/src/*'], message: 'Import a package through its exports map.' }] }],
    },
  },
  {
    // Routes parse, call one domain service and shape the response: data access and its rules live in @cistern/domain.
    files: ['apps/api/src/routes/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@cistern/db', allowTypeImports: true, message: 'Routes call domain services (@cistern/domain), never Prisma; row types are fine.' }],
          patterns: [{ group: ['@prisma/*', '**/generated/*'], message: 'Routes call domain services (@cistern/domain), never Prisma.' }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "Identifier[name='prisma']", message: 'Routes call domain services (@cistern/domain), never Prisma.' },
        { selector: 'Identifier[name=/^\\$(queryRaw|executeRaw|transaction)/]', message: 'Routes call domain services (@cistern/domain), never Prisma.' },
      ],
    },
  },
);
