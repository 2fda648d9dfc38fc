// The library's own tests, in one process: each file loading src/ through tsx costs about 0.6 s of
// CPU, so these smaller files share one (test/core/). The comparison, the reference GRU, layouts,
// the library entry points, ONNX's spec cases and models, the port fixtures, candidate layouts,
// the hardening of the loaders, the statistics against numpy (core/stats.ts), diagnose
// (core/diagnose.ts), the fp16/bf16 presets on real mixed-precision ports (core/precision-ports.ts),
// ports to Keras and Flax (core/keras-ports.ts), GRUCell cases (core/cells.ts) and the published
// types (core/types.ts).
import './core/compare.js';
import './core/compare-kernel.js';
import './core/gru.js';
import './core/layouts.js';
import './core/library.js';
import './core/onnx-spec.js';
import './core/onnx-model.js';
import './core/ports.js';
import './core/candidates.js';
import './core/hardening.js';
import './core/stats.js';
import './core/diagnose.js';
import './core/precision-ports.js';
import './core/keras-ports.js';
import './core/cells.js';
import './core/types.js';
import './core/safety.js';
