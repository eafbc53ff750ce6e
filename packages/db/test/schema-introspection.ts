import type { SqlSession } from '../src/sql-session.ts';

/** What the migrated database really holds, in the shape the agreement test compares. */
export interface Introspection {
  tables: Map<string, Map<string, { type: string; nullable: boolean }>>;
  /** "table(col,col) primary|unique|index" */
  indexes: Set<string>;
  /** "table(col,col) -> table(col,col) on delete ACTION" */
  foreignKeys: Set<string>;
  enums: Map<string, string[]>;
}

export async function introspect(session: SqlSession): Promise<Introspection> {
  const columns = await session.query<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string }>(
    `SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
  );
  const tables = new Map<string, Map<string, { type: string; nullable: boolean }>>();
  for (const c of columns) {
    const table = tables.get(c.table_name) ?? new Map();
    const type = c.data_type === 'USER-DEFINED' || c.data_type === 'ARRAY' ? c.udt_name : c.data_type;
    table.set(c.column_name, { type, nullable: c.is_nullable === 'YES' });
    tables.set(c.table_name, table);
  }
  const indexRows = await session.query<{ table: string; columns: string[] | string; primary: boolean; unique: boolean }>(
    `SELECT t.relname AS table, ix.indisprimary AS primary, ix.indisunique AS unique,
            array_agg(a.attname ORDER BY k.ord) AS columns
     FROM pg_index ix
     JOIN pg_class t ON t.oid = ix.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
     CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
     WHERE t.relname <> '_prisma_migrations'
       -- Partial indexes (at most one registry mirror) are rules the schema cannot declare, as CHECKs are.
       AND ix.indpred IS NULL
     GROUP BY t.relname, ix.indexrelid, ix.indisprimary, ix.indisunique`,
  );
  const indexes = new Set(indexRows.map((r) => `${r.table}(${asArray(r.columns).join(',')}) ${r.primary ? 'primary' : r.unique ? 'unique' : 'index'}`));
  const fkRows = await session.query<{ table: string; columns: string[] | string; target: string; target_columns: string[] | string; on_delete: string }>(
    `SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS target,
            (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS columns,
            (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS target_columns,
            c.confdeltype AS on_delete
     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = 'public'
     WHERE c.contype = 'f'`,
  );
  const actions: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };
  const foreignKeys = new Set(
    fkRows.map(
      (r) =>
        `${unquote(r.table)}(${asArray(r.columns).join(',')}) -> ${unquote(r.target)}(${asArray(r.target_columns).join(',')}) on delete ${actions[r.on_delete]}`,
    ),
  );
  const enumRows = await session.query<{ name: string; value: string }>(
    `SELECT t.typname AS name, e.enumlabel AS value FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY t.typname, e.enumsortorder`,
  );
  const enums = new Map<string, string[]>();
  for (const row of enumRows) enums.set(row.name, [...(enums.get(row.name) ?? []), row.value]);
  return { tables, indexes, foreignKeys, enums };
}

// node-postgres parses name[] as an array, PGlite may hand back the '{a,b}' literal.
function asArray(value: string[] | string): string[] {
  return Array.isArray(value)
    ? value
    : value
        .replace(/^\{|\}$/g, '')
        .split(',')
        .map((v) => v.replace(/^"|"$/g, ''));
}

function unquote(name: string): string {
  return name.replace(/^"|"$/g, '');
}
