// Every GateMath option on every runner, fused multiply-add build (relaxed SIMD on, as the CLI does).
import { setFlagsFromString } from 'node:v8';
import { gateMathTests } from './gatemath-cases.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
gateMathTests('fma');
