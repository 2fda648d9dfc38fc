// Generates schema/result.schema.json, the JSON Schema of `--format json`, from src/result.ts (the
// result contract): every interface and type alias there becomes a definition, and the document is
// a RunSummary (run) or a DiagnosisReport (diagnose). Reads the declarations with the TypeScript
// compiler's parser, so the schema says exactly what the types say: optional members are not
// required, no member outside the type is allowed. Fields renderJson leaves out are optional in
// the types, so they need no exception here.
//
// usage: node schema/make-result-schema.mjs          writes the file
//        node schema/make-result-schema.mjs --print  prints it (the test compares the two)
import ts from 'typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'src', 'result.ts');

export function makeResultSchema() {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const decls = new Map();
  for (const s of sf.statements) if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) decls.set(s.name.text, s);

  const doc = (node) => {
    const jsDoc = node.jsDoc?.[0]?.comment;
    return typeof jsDoc === 'string' ? { description: jsDoc.replace(/\s+/g, ' ').trim() } : {};
  };
  const literalKeys = (t) => {
    if (ts.isUnionTypeNode(t)) {
      const parts = t.types.map(literalKeys);
      return parts.every((p) => p !== undefined) ? parts.flat() : undefined;
    }
    if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) return [t.literal.text];
    if (ts.isTypeReferenceNode(t) && decls.has(t.typeName.getText(sf))) return literalKeys(decls.get(t.typeName.getText(sf)).type);
    return undefined;
  };
  const members = (list) => {
    const properties = {};
    const required = [];
    for (const m of list) {
      if (!ts.isPropertySignature(m)) throw new Error(`result.ts: ${m.getText(sf)}: only properties are allowed`);
      const name = m.name.getText(sf);
      properties[name] = { ...doc(m), ...schemaOf(m.type) };
      if (!m.questionToken) required.push(name);
    }
    return { properties, required };
  };
  const object = ({ properties, required }) => ({ type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false });

  function schemaOf(t) {
    switch (t.kind) {
      case ts.SyntaxKind.StringKeyword: return { type: 'string' };
      case ts.SyntaxKind.NumberKeyword: return { type: 'number' };
      case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
      default: break;
    }
    if (ts.isParenthesizedTypeNode(t)) return schemaOf(t.type);
    if (ts.isLiteralTypeNode(t)) {
      if (t.literal.kind === ts.SyntaxKind.NullKeyword) return { type: 'null' };
      if (ts.isStringLiteral(t.literal)) return { const: t.literal.text };
      if (t.literal.kind === ts.SyntaxKind.TrueKeyword) return { const: true };
      if (t.literal.kind === ts.SyntaxKind.FalseKeyword) return { const: false };
    }
    if (ts.isUnionTypeNode(t)) {
      const keys = literalKeys(t);
      if (keys) return { enum: keys };
      return { anyOf: t.types.map(schemaOf) };
    }
    if (ts.isArrayTypeNode(t)) return { type: 'array', items: schemaOf(t.elementType) };
    if (ts.isTypeLiteralNode(t)) return object(members(t.members));
    if (ts.isTypeReferenceNode(t)) {
      const name = t.typeName.getText(sf);
      const args = t.typeArguments ?? [];
      if (name === 'Record' || name === 'Partial') {
        const record = name === 'Partial' ? args[0] : t;
        if (!ts.isTypeReferenceNode(record) || record.typeName.getText(sf) !== 'Record') throw new Error(`result.ts: ${t.getText(sf)} is not supported`);
        const [k, v] = record.typeArguments;
        const keys = literalKeys(k);
        if (!keys) return { type: 'object', additionalProperties: schemaOf(v) };
        const properties = Object.fromEntries(keys.map((key) => [key, schemaOf(v)]));
        return object({ properties, required: name === 'Partial' ? [] : keys });
      }
      if (!decls.has(name)) throw new Error(`result.ts: ${name} is not declared there (the contract imports nothing)`);
      return { $ref: `#/$defs/${name}` };
    }
    throw new Error(`result.ts: the type ${t.getText(sf)} is not supported by the schema generator`);
  }

  const defs = {};
  for (const [name, d] of [...decls].sort(([a], [b]) => a.localeCompare(b))) {
    if (ts.isTypeAliasDeclaration(d)) {
      defs[name] = { ...doc(d), ...schemaOf(d.type) };
      continue;
    }
    const own = members(d.members);
    for (const h of d.heritageClauses ?? []) {
      for (const base of h.types) {
        // `extends Omit<X, 'a' | 'b'>`: X's members but those.
        const omit = base.expression.getText(sf) === 'Omit';
        const from = omit ? base.typeArguments[0].getText(sf) : base.expression.getText(sf);
        const b = members(decls.get(from).members);
        if (omit) {
          const drop = literalKeys(base.typeArguments[1]);
          for (const k of drop) delete b.properties[k];
          b.required = b.required.filter((k) => !drop.includes(k));
        }
        own.properties = { ...b.properties, ...own.properties };
        own.required = [...b.required, ...own.required];
      }
    }
    defs[name] = { ...doc(d), ...object(own) };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/gru-check/gru-check/schema/result.schema.json',
    title: 'gru-check --format json',
    description: 'Generated from src/result.ts by schema/make-result-schema.mjs: do not edit. `run` prints a RunSummary, `diagnose` a DiagnosisReport.',
    anyOf: [{ $ref: '#/$defs/RunSummary' }, { $ref: '#/$defs/DiagnosisReport' }],
    $defs: defs,
  };
}

export const resultSchemaText = () => `${JSON.stringify(makeResultSchema(), null, 2)}\n`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--print')) process.stdout.write(resultSchemaText());
  else writeFileSync(join(root, 'schema', 'result.schema.json'), resultSchemaText());
}
