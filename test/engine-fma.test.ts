// The fast engine against the reference, with the fused multiply-add build of the wasm kernel
// (gemm-fma.wasm), which the CLI uses: relaxed SIMD is enabled first, as bin/gru-check.cjs does on
// Node 20. V8 flags are per process, and node --test runs each file in its own. The tests are in
// engine/cases.ts and engine/gatemath.ts.
import { setFlagsFromString } from 'node:v8';
import { engineTests } from './engine/cases.js';
import { gateMathTests } from './engine/gatemath.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
engineTests('fma');
gateMathTests('fma');
