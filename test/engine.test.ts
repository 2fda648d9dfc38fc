// The fast engine against the reference, with the baseline SIMD build of the wasm kernel (what a
// library user on Node 20 without flags gets): every case and random shapes (engine-cases.ts), and
// every GateMath option on every runner (gatemath-cases.ts). One file per build, because the build
// is chosen once per process.
import { engineTests } from './engine-cases.js';
import { gateMathTests } from './gatemath-cases.js';

engineTests('simd');
gateMathTests('simd');
