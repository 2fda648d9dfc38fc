// The |error| histogram written out plainly, for the tests to hold the compare kernel's to: every
// difference counted in its top-16-bit bucket (sign ignored), buckets summed per exponent field,
// then laid out as compare/stats.ts's octaveHistogramOf does for the kernel's counts.
import { HI, octaveHistogramOf, type ErrorHistogram } from '../../src/compare/stats.js';

export function plainErrorHistogram(diffs: Float64Array, zeros: number): ErrorHistogram {
  const u = new Uint32Array(diffs.buffer, diffs.byteOffset, 2 * diffs.length);
  const per = new Array<number>(2047).fill(0);
  for (let i = 0; i < diffs.length; i++) per[((u[2 * i + HI]! >>> 16) & 0x7fff) >>> 4]++;
  return octaveHistogramOf(per, zeros);
}
