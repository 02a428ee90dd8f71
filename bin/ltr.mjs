#!/usr/bin/env node
// The `ltr` command. Runs the TypeScript sources directly through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
