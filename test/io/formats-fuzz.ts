/**
 * Property-based fuzzing of the weight-format readers with fixed seeds (properties in
 * test/fuzz/format-props.ts; `npm run fuzz` runs them longer with a random seed): mutated real
 * torch.save files and pickles, generated opcode streams and tensor views, generated and mutated
 * safetensors headers, mutated ONNX models, mutated Keras .weights.h5 and .keras files. Each outcome is a value or a one-line GruCheckError,
 * bounded in time and memory, and nothing in a pickle ever runs.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  PICKLE_PWNED,
  kerasArchiveMutationProperty,
  kerasH5DimsProperty,
  kerasH5MutationProperty,
  onnxMutationProperty,
  pickleMutationProperty,
  pickleStreamProperty,
  safetensorsHeaderProperty,
  safetensorsMutationProperty,
  tensorViewProperty,
  torchZipMutationProperty,
} from '../fuzz/format-props.js';

before(() => rmSync(PICKLE_PWNED, { force: true }));
after(() => assert.ok(!existsSync(PICKLE_PWNED), 'something in a pickle ran'));

describe('fuzz: torch.save and the restricted unpickler', () => {
  it('byte edits anywhere in real torch.save zips (100 runs)', () => {
    fc.assert(torchZipMutationProperty(), { seed: 0x746f7231, numRuns: 100 });
  });
  it('byte edits in real data.pkl pickles, re-zipped with good CRCs (150 runs)', () => {
    fc.assert(pickleMutationProperty(), { seed: 0x706b6c31, numRuns: 150 });
  });
  it('generated opcode streams (300 runs)', () => {
    fc.assert(pickleStreamProperty(), { seed: 0x6f707331, numRuns: 300 });
  });
  it('generated tensor views: sizes, strides, offsets, storages; maxBytes honoured (150 runs)', () => {
    fc.assert(tensorViewProperty(), { seed: 0x76696531, numRuns: 150 });
  });
});

describe('fuzz: safetensors', () => {
  it('generated headers: dtypes, shapes, offsets, lengths that lie (200 runs)', () => {
    fc.assert(safetensorsHeaderProperty(), { seed: 0x73743031, numRuns: 200 });
  });
  it('byte edits in real safetensors files (100 runs)', () => {
    fc.assert(safetensorsMutationProperty(), { seed: 0x73743032, numRuns: 100 });
  });
});

describe('fuzz: ONNX', () => {
  it('byte edits in real ONNX models (150 runs)', () => {
    fc.assert(onnxMutationProperty(), { seed: 0x6f6e7831, numRuns: 150 });
  });
});

describe('fuzz: Keras files', () => {
  it('byte edits in real Keras 3 .weights.h5 files (150 runs)', () => {
    fc.assert(kerasH5MutationProperty(), { seed: 0x6b683531, numRuns: 150 });
  });
  it('generated kernel dims, 0 to 2^64-1, in a real .weights.h5 (100 runs)', () => {
    fc.assert(kerasH5DimsProperty(), { seed: 0x6b683532, numRuns: 100 });
  });
  it("byte edits in a real .keras file's config.json or model.weights.h5, re-zipped with good CRCs, read and built into a case (100 runs)", () => {
    fc.assert(kerasArchiveMutationProperty(), { seed: 0x6b657231, numRuns: 100 });
  });
});
