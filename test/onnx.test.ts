// ONNX as people export it: node attributes as settings, torch 2.x exports (external data, folded
// weights), ONNX Runtime kept in its box (issue 20).
import './onnx/node-attrs.js';
import './onnx/torch2.js';
import './onnx/ort-box.js';
import './onnx/conformance.js';
