import antfu from '@antfu/eslint-config'

export default antfu({
  vue: true,
  typescript: true,
  formatters: false,
  pnpm: false,
  ignores: [
    '**/dist/**',
    '**/node_modules/**',
    'backend/src/generated/**',
    'backend/prisma/migrations/**',
    'data/**',
    'e2e/artifacts/**',
    '**/*.md',
  ],
}, {
  rules: {
    'no-console': 'off',
    'node/prefer-global/process': 'off',
    'node/prefer-global/buffer': 'off',
    'ts/no-explicit-any': 'off',
    'antfu/no-top-level-await': 'off',
    'e18e/prefer-static-regex': 'off',
    // TypeBox idiom: a schema and its Static type share one name.
    'ts/no-redeclare': 'off',
  },
})
