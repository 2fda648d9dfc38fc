// The engines (src/engine, src/gru's runners), in one process with the baseline SIMD build of the
// wasm kernel (what a library user on Node 20 without flags gets): the fast engine against the
// reference on every case and random shapes (engine/cases.ts), every GateMath option on every
// runner (engine/gatemath.ts), the wasm kernel's pieces (engine/wasm.ts), and progress, pacing and
// abort (engine/progress.ts). engine-fma.test.ts runs the first two with the fused multiply-add
// build: the build is chosen once per process. (node --test starts a process with the TypeScript
// loader per test file, ~0.45 s each here: one process per build, not per topic.)
import { engineTests } from './engine/cases.js';
import { gateMathTests } from './engine/gatemath.js';
import './engine/wasm.js';
import './engine/progress.js';

engineTests('simd');
gateMathTests('simd');
