// Every GateMath option on every runner, baseline SIMD build (the tests are in gatemath-cases.ts).
import { gateMathTests } from './gatemath-cases.js';

gateMathTests('simd');
