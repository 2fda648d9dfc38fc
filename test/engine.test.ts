// The fast engine against the reference, with the baseline SIMD build of the wasm kernel (what a
// library user on Node 20 without flags gets). The tests themselves are in engine-cases.ts.
import { engineTests } from './engine-cases.js';

engineTests('simd');
