import { defineConfig } from 'prisma/config';

// The CLI is used offline only: `prisma generate` (scripts/prisma-generate.mjs).
// Migrations are applied by packages/db, never by `prisma migrate`.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
