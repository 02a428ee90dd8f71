/**
 * Child process of test/features/extract.test.ts: runs the fixture extraction into argv[2] (images in argv[3]),
 * sleeping argv[4] ms after every batch so the parent can kill it mid-run.
 */
import { initBackend } from "../../../src/backend.js";
import { extractFeatures } from "../../../src/features/extract.js";
import { fixtureBackbone, fixtureSplit, ROWS } from "./extract_fixture.js";

const [out, imgDir, delayMs] = process.argv.slice(2);
await initBackend("wasm");
const paths = Array.from({ length: ROWS }, (_, i) => `${imgDir}/img_${i}.jpg`);
const backbone = fixtureBackbone();
await extractFeatures({
  backbone,
  split: fixtureSplit(paths),
  batchSize: 2,
  chunkRows: 2,
  out,
  meta: { split: "test", extra: { fixture: 1 } },
  onProgress: () => {
    const until = Date.now() + Number(delayMs);
    while (Date.now() < until) {
      /* hold the process so the parent can kill it between chunks */
    }
  },
});
process.stdout.write("done\n");
