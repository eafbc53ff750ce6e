import { readFile } from 'node:fs/promises';
import type { Introspection } from './schema-introspection.ts';

interface DmmfField {
  name: string;
  kind: 'scalar' | 'enum' | 'object';
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface Dmmf {
  models: { name: string; fields: DmmfField[] }[];
  enums: { name: string; values: { name: string }[] }[];
  indexes: { model: string; type: 'id' | 'unique' | 'normal'; fields: { name: string }[] }[];
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Boolean: 'boolean',
  DateTime: 'timestamp without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};
const LIST_TYPES: Record<string, string> = { String: '_text' };
const NATIVE_TYPES: Record<string, string> = { Uuid: 'uuid' };

/** The database the schema declares, derived from the DMMF that `prisma generate` wrote. */
export async function expectedFromSchema(): Promise<Introspection> {
  const dmmf = JSON.parse(await readFile(new URL('../src/generated/dmmf/dmmf.json', import.meta.url), 'utf8')) as Dmmf;
  const tables: Introspection['tables'] = new Map();
  const foreignKeys = new Set<string>();
  for (const model of dmmf.models) {
    const columns = new Map<string, { type: string; nullable: boolean }>();
    for (const field of model.fields) {
      if (field.kind === 'object') {
        if (field.relationFromFields?.length) {
          foreignKeys.add(
            `${model.name}(${field.relationFromFields.join(',')}) -> ${field.type}(${(field.relationToFields ?? []).join(',')}) on delete ${field.relationOnDelete ?? 'Restrict'}`,
          );
        }
        continue;
      }
      const type = field.isList
        ? LIST_TYPES[field.type]
        : field.kind === 'enum'
          ? field.type
          : field.nativeType
            ? NATIVE_TYPES[field.nativeType[0]]
            : SCALAR_TYPES[field.type];
      if (!type) throw new Error(`no expectation for ${model.name}.${field.name} (${field.type})`);
      // Prisma creates scalar-list columns nullable with an empty-array default.
      columns.set(field.name, { type, nullable: field.isList || !field.isRequired });
    }
    tables.set(model.name, columns);
  }
  const kinds = { id: 'primary', unique: 'unique', normal: 'index' } as const;
  const indexes = new Set(dmmf.indexes.map((i) => `${i.model}(${i.fields.map((f) => f.name).join(',')}) ${kinds[i.type]}`));
  const enums = new Map(dmmf.enums.map((e) => [e.name, e.values.map((v) => v.name)]));
  return { tables, indexes, foreignKeys, enums };
}
