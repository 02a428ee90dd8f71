#!/usr/bin/env node
// The `ltr` command: the compiled CLI in dist/ (`npm run build`; `npm ci` in a checkout builds it through `prepare`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error(
    `ltr: ${fileURLToPath(main)} is missing: the command runs the compiled package; run \`npm run build\` in ${fileURLToPath(new URL("..", import.meta.url))}`,
  );
  process.exit(1);
}
const cli = await import(main.href);
process.exitCode = await cli.main(process.argv.slice(2));
