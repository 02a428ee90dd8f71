/**
 * Write docs/CONFIG.md from the config schema (src/config/doc.ts). `npm run docs:config` after changing a key in
 * src/config/schema.ts; test/foundation/config_doc.test.ts fails while the two disagree.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configDoc } from "../src/config/doc.js";

const file = join(import.meta.dirname, "..", "docs", "CONFIG.md");
writeFileSync(file, configDoc());
console.log(`wrote ${file}`);
