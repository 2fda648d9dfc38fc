// Writes schema/suite.schema.json from the option table (src/suite/schema.ts):
//   node --import tsx schema/make-suite-schema.ts
import { writeFileSync } from 'node:fs';
import { suiteSchemaText } from '../src/suite/schema.js';

writeFileSync(new URL('./suite.schema.json', import.meta.url), suiteSchemaText());
