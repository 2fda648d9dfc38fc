/**
 * schema/suite.schema.json, generated: the suite's frame (version, defaults, cases, a case's path
 * and label) here, every setting from the option table's suite rows (src/options.ts), the same
 * under "defaults" and in each case. `node --import tsx schema/make-suite-schema.ts` writes it; a
 * test holds the committed file to this.
 */
import { SUITE_OPTIONS } from '../options.js';

export function suiteSchema(): Record<string, unknown> {
  // Two settings that cannot meet in a case (the CLI's conflicting flags): a case names one port.
  const apart = SUITE_OPTIONS.filter((r) => r.cli?.conflicts !== undefined).map((r) => ({ not: { required: [r.cli!.conflicts!, r.key] } }));
  const settings = Object.fromEntries(SUITE_OPTIONS.map((r) => [r.key, { ...r.value.schema, ...(r.suite!.doc ? { description: r.suite!.doc } : {}) }]));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/gru-check/gru-check/schema/suite.schema.json',
    title: 'gru-check suite',
    description: "Many cases in one run: gru-check run --suite FILE.json [--shard K/N]. Paths are relative to the suite file. Settings: a case's own over the suite's defaults over the command line's flags; each setting replaces the one below it whole.",
    type: 'object',
    required: ['gruCheckSuite', 'cases'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      description: { type: 'string' },
      gruCheckSuite: { const: 1 },
      defaults: { $ref: '#/$defs/settings' },
      cases: { type: 'array', minItems: 1, items: { $ref: '#/$defs/case' } },
    },
    $defs: {
      settings: { type: 'object', additionalProperties: false, properties: settings },
      case: {
        type: 'object',
        required: ['case'],
        additionalProperties: false,
        properties: {
          case: { type: 'string', minLength: 1, description: 'The case: an .npz file or a folder of .npy files, relative to the suite file.' },
          name: { type: 'string', minLength: 1, description: "A label for reports (default: the case's path)." },
          ...settings,
        },
        ...(apart.length === 1 ? apart[0] : apart.length > 1 ? { allOf: apart } : {}),
      },
    },
  };
}

/** The schema as the committed file holds it. */
export const suiteSchemaText = (): string => `${JSON.stringify(suiteSchema(), null, 2)}\n`;
