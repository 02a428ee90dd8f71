/**
 * The golden run against its committed values (docs/DETERMINISM.md, "The golden test").
 *
 *   npm run golden                compute the golden run and compare with test/golden/fmnist_short.json;
 *                                 prints the differences and exits 1 when there are any
 *   npm run golden -- --update    compute it and write this engine's values (other engines' are kept)
 *
 * The engine is the native layer in deterministic numerics (what CI runs) or, without the addon (LTR_NATIVE=0),
 * the WebAssembly kernels; each has its own values. LTR_NUMERICS=fast is refused: its numbers are not promised to
 * be the same anywhere else.
 */
import { parseArgs } from "node:util";
import { computeGolden } from "./golden/compute.js";
import { checkGolden, goldenPath, readGolden, updatedGolden, writeGolden } from "./golden/file.js";

const { values: args } = parseArgs({
  options: {
    update: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  console.log("usage: npm run golden [-- --update] [--quiet]");
  process.exit(0);
}
const log = args.quiet ? () => {} : (s: string) => console.error(s);
const { values, machine } = await computeGolden(log);
if (machine.engine.startsWith("native-") && machine.engine !== "native-deterministic") {
  console.error(
    `golden: engine ${machine.engine}: only deterministic numerics have golden values; unset LTR_NUMERICS or set LTR_NUMERICS=deterministic`,
  );
  process.exit(2);
}
const prev = readGolden();
if (args.update) {
  writeGolden(updatedGolden(prev, values, machine));
  console.log(`golden: wrote the ${machine.engine} values to ${goldenPath()}`);
  process.exit(0);
}
const problems = checkGolden(prev, values, machine);
if (problems.length) {
  console.log(problems.join("\n"));
  process.exit(1);
}
console.log(
  `golden: identical to test/golden/fmnist_short.json (engine ${machine.engine}, ${Object.keys(values.stage2).length} classifiers, stage-1 weights ${values.stage1.weights_sha256.slice(0, 12)}…)`,
);
