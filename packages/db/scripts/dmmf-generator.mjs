// A Prisma generator that writes the schema's DMMF as JSON, so the migration
// test can compare the migrated database against what the schema declares.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import generatorHelper from '@prisma/generator-helper';

generatorHelper.generatorHandler({
  onManifest: () => ({ prettyName: 'DMMF (JSON)', defaultOutput: './dmmf' }),
  onGenerate: async (options) => {
    const out = options.generator.output?.value;
    if (!out) throw new Error('dmmf generator needs an output directory');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'dmmf.json'), JSON.stringify(options.dmmf.datamodel, null, 2));
  },
});
