#!/usr/bin/env node
/**
 * The tslab kernel as Jupyter starts it for this project (scripts/setup-jupyter.sh writes the kernelspec), with one
 * addition: before a cell runs, the kernel publishes the `execute_input` message of the Jupyter messaging protocol
 * (https://jupyter-client.readthedocs.io/en/stable/messaging.html#code-inputs), which carries the cell's execution
 * count. tslab 1.0.22 sends the count only in `execute_reply`; the notebook UI reads it from there, but nbconvert /
 * nbclient take it from the IOPub messages only, so every cell they execute kept `In [ ]:` (execution_count null).
 *
 *   node scripts/tslab-kernel.cjs --config-path CONNECTION_FILE
 *
 * Everything else is tslab's own kernel (`tslab/dist/main` startKernel), loaded from this project's node_modules;
 * the patch touches two methods of tslab's internal classes, hence the exact pin tslab@1.0.22 in package.json.
 */
"use strict";
const path = require("node:path");

const TSLAB_PINNED = "1.0.22";
const root = path.resolve(__dirname, "..");
const req = require("node:module").createRequire(path.join(root, "package.json"));

let jupyter, main, version;
try {
  version = req("tslab/package.json").version;
  jupyter = req("tslab/dist/jupyter");
  main = req("tslab/dist/main");
} catch (e) {
  process.stderr.write(`tslab-kernel: tslab is not installed in ${root}/node_modules; run \`npm ci\` (${e.message})\n`);
  process.exit(1);
}
if (version !== TSLAB_PINNED)
  process.stderr.write(
    `tslab-kernel: warning: tslab ${version} found, this patch was written against ${TSLAB_PINNED}\n`,
  );

const ANNOUNCE = Symbol("ltr.announceExecuteInput");
const server = jupyter.ZmqServer.prototype;
const handler = jupyter.JupyterHandlerImpl.prototype;
if (typeof server.handleExecute !== "function" || typeof handler.handleExecuteImpl !== "function") {
  process.stderr.write(
    `tslab-kernel: tslab ${version} has no ZmqServer.handleExecute / JupyterHandlerImpl.handleExecuteImpl; starting it unpatched\n`,
  );
} else {
  // The shell handler knows the message (for the reply header and the IOPub socket) ...
  const handleExecute = server.handleExecute;
  server.handleExecute = function (sock, msg) {
    const self = this;
    Object.defineProperty(msg.content, ANNOUNCE, {
      enumerable: false,
      value(count) {
        const m = msg.createReply();
        m.header.msg_type = "execute_input";
        m.content = { code: msg.content.code, execution_count: count };
        m.signAndSend(self.connInfo.key, self.iopub);
      },
    });
    return handleExecute.call(this, sock, msg);
  };
  // ... and the execution queue knows the count: it runs cells one at a time, and the next count is execCount + 1.
  const handleExecuteImpl = handler.handleExecuteImpl;
  handler.handleExecuteImpl = function (req, writeStream, writeDisplayData) {
    if (typeof req[ANNOUNCE] === "function") req[ANNOUNCE](this.execCount + 1);
    return handleExecuteImpl.call(this, req, writeStream, writeDisplayData);
  };
}

const args = process.argv.slice(2).filter((a) => a !== "kernel");
const i = args.indexOf("--config-path");
const configPath =
  i >= 0 ? args[i + 1] : args.find((a) => a.startsWith("--config-path="))?.slice("--config-path=".length);
if (!configPath) {
  process.stderr.write(
    "usage: node scripts/tslab-kernel.cjs --config-path CONNECTION_FILE (Jupyter passes it; see scripts/setup-jupyter.sh)\n",
  );
  process.exit(2);
}
// enableFindLocal false: this project's tslab is the one loaded above, with the patch.
main.startKernel({ configPath, enableFindLocal: false, jsKernel: false });
