// Preloaded with `node --require` by test/foundation/cli_light.test.ts: at exit, write on stderr how many modules of
// @tensorflow/* the process loaded (CommonJS packages land in require.cache whether required or imported).
"use strict";
process.on("exit", () => {
  const loaded = Object.keys(require.cache).filter((k) => /[\\/]@tensorflow[\\/]/.test(k)).length;
  process.stderr.write(`\ntfjs-modules-loaded: ${loaded}\n`);
});
