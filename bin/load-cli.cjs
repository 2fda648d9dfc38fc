// Loads the bundled CLI, dist/engine/cli-bundle.cjs (wasm/bundle.mjs), with V8's code cache for it,
// dist/engine/cli-bundle.cache, written by `npm run build` after a warm-up run. The cache holds the
// bytecode of every function that run compiled, so a fresh process neither parses the 0.5 MB
// bundle nor compiles those functions again: every CI invocation pays that otherwise (docs/speed.md
// has the bench). Node 22 has module.enableCompileCache() for this; Node 20 does not,
// so it is done here, with vm.Script's cachedData, in the way Node's CommonJS loader runs a file.
//
// V8 checks a cache against its own version and flags and the source's length only. So the cache
// starts with a header: the CRC-32 and byte length of the bundle it was made from, and the CRC-32
// of the cache data. A cache whose header does not match (a stale or damaged file) is not offered
// to V8 at all, and one V8 rejects is simply not used: the bundle is then compiled as usual.
//
// CommonJS, as is the launcher: an ES module that imports Node's built-in modules pays for an ES
// module facade over each one's exports (fs, zlib and vm here), and Node's ES module loader itself:
// a fresh process ends sooner with this file as CommonJS (figures in bench/README.md).
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');
const zlib = require('node:zlib');

const BUNDLE = join(__dirname, '..', 'dist', 'engine', 'cli-bundle.cjs');
const CACHE = BUNDLE.replace(/\.cjs$/, '.cache');
const HEADER = 12;

/** CRC-32 and byte length of the bundle, or null where zlib.crc32 is missing (Node < 20.15). */
function stamp(bytes) {
  return typeof zlib.crc32 === 'function' ? [zlib.crc32(bytes), bytes.length] : null;
}

/** The CLI's exports (main, startEngine), and a function that writes the code cache from this process. */
function loadCli() {
  const bytes = readFileSync(BUNDLE);
  const id = stamp(bytes);
  let cachedData;
  try {
    const c = readFileSync(CACHE);
    const data = c.subarray(HEADER);
    if (id && data.length > 0 && c.readUInt32LE(0) === id[0] && c.readUInt32LE(4) === id[1] && c.readUInt32LE(8) === zlib.crc32(data)) cachedData = data;
  } catch {
    // no cache: compile as usual
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${bytes.toString('utf8')}\n})`;
  const script = new Script(wrapped, { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return {
    cli: module.exports,
    /** Whether a cache was offered and V8 took it. */
    cached: cachedData !== undefined && !script.cachedDataRejected,
    writeCache() {
      if (!id) return false;
      const data = script.createCachedData();
      const head = Buffer.alloc(HEADER);
      head.writeUInt32LE(id[0], 0);
      head.writeUInt32LE(id[1], 4);
      head.writeUInt32LE(zlib.crc32(data), 8);
      // Written whole then renamed, so a concurrent reader never sees half a cache.
      writeFileSync(`${CACHE}.tmp`, Buffer.concat([head, data]));
      renameSync(`${CACHE}.tmp`, CACHE);
      return true;
    },
  };
}

module.exports = { loadCli };
