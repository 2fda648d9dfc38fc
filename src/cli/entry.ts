/**
 * What bin/gru-check.cjs loads: the CLI and its early prewarm, bundled by `npm run build` (esbuild)
 * into one file, dist/engine/cli-bundle.cjs, run with V8's code cache (bin/load-cli.cjs). One file
 * instead of ~60 ES modules halves the time a run spends loading the CLI, which every CI
 * invocation pays. It sits in dist/engine/ because it loads the kernel
 * (gemm*.wasm) and the worker (worker.js) by URLs relative to itself, as the unbundled engine does.
 * onnx-proto stays outside the bundle: it is loaded only for .onnx files.
 */
export { main } from './main.js';
export { startEngine } from './early.js';
