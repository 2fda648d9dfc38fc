/**
 * Property: on random byte flips and truncations of real numpy files, parseNpy and readNpz (and
 * parseNpy over every member) either return or throw GruCheckError: never a raw Error from npyjs,
 * fflate, a DataView or a typed-array constructor. Fixed seed so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GruCheckError } from '../../src/errors.js';
import { parseNpy } from '../../src/io/npy.js';
import { readNpz } from '../../src/io/npz.js';
import { fixture } from '../fixtures/io/helpers.js';

const NPY = ['f2', 'f4', 'be_f8', 'i8', 'U', 'config', 'fortran_f8_3d', 'fortran_U_2d', 'b1', 'v2_f4', 'v3_f4'].map((n) =>
  fixture(`npy/${n}.npy`),
);
const NPZ = [fixture('plain.npz'), fixture('compressed.npz')];

/** A fixture index, some (offset, xor) flips, and an optional cut, applied to a copy. */
const mutation = (count: number) =>
  fc.record({
    which: fc.nat({ max: count - 1 }),
    flips: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), xor: fc.integer({ min: 1, max: 255 }) }), {
      maxLength: 4,
    }),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  });

function mutate(src: Uint8Array, m: { flips: Array<{ at: number; xor: number }>; cut: number | undefined }): Uint8Array {
  const b = src.slice();
  // Half of the flips land in the first 128 bytes, where headers and zip records live.
  for (const [i, f] of m.flips.entries()) {
    const span = i % 2 === 0 ? Math.min(128, b.length) : b.length;
    b[Math.floor(f.at * span)]! ^= f.xor;
  }
  return m.cut === undefined ? b : b.subarray(0, Math.floor(m.cut * b.length));
}

function onlyGruErrors(fn: () => void): boolean {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof GruCheckError)) throw e;
    assert.ok(!/[\r\n]/.test(e.message));
  }
  return true;
}

describe('io fuzz: never anything but GruCheckError', () => {
  it('parseNpy on flipped / truncated .npy files', () => {
    fc.assert(
      fc.property(mutation(NPY.length), (m) => onlyGruErrors(() => void parseNpy(mutate(NPY[m.which]!, m), 'x'))),
      { seed: 20240101, numRuns: 400 },
    );
  });

  it('readNpz (+ parseNpy per member) on flipped / truncated .npz files', () => {
    fc.assert(
      fc.property(mutation(NPZ.length), (m) =>
        onlyGruErrors(() => {
          for (const [name, bytes] of readNpz(mutate(NPZ[m.which]!, m))) parseNpy(bytes, name);
        }),
      ),
      { seed: 20240102, numRuns: 400 },
    );
  });
});
