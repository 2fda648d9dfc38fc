// Everything that reads files (src/io): the tests are in test/io/, one file per reader, and run
// here in one process. node --test starts a process with the TypeScript loader per test file
// (~0.45 s each on a 2-core machine), which for these quick tests cost more than the tests.
// The fixed-seed fuzzing of everything that reads untrusted bytes runs here too (fuzz/fixed-seeds.ts).
// One of them alone: node --import tsx --test test/io/npz.ts
import './io/npy.js';
import './io/npz.js';
import './io/load.js';
import './io/pickle.js';
import './io/formats.js';
import './io/fuzz.js';
import './io/formats-fuzz.js';
import './io/keras-files.js';
import './fuzz/fixed-seeds.js';
