/**
 * npm test (test/run.ts) on a machine without the real things: each real suite says in one line
 * what is missing and how to provide it, is skipped, and the summary does not claim it; with
 * REQUIRE_REAL_SUITES=1 (the GitHub workflow) the same absence fails the run.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  freeswitchImage,
  isFound,
  pinnedPulumiVersion,
  PROJECT_DIR,
  pulumiEngine,
  rootOnLinux,
} from "../support/environment";
import { formatSummary } from "../support/summary";

const dir = mkdtempSync(join(tmpdir(), "test-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A directory with a stand-in `pulumi` that prints `version`. */
function fakePulumi(version: string): string {
  const bin = mkdtempSync(join(dir, "bin-"));
  writeFileSync(join(bin, "pulumi"), `#!/bin/sh\n[ "$1" = version ] && echo ${version}\n`);
  chmodSync(join(bin, "pulumi"), 0o755);
  return bin;
}
/** PATH with node and the basic tools, and no pulumi. */
const BARE_PATH = [dirname(process.execPath), "/usr/bin", "/bin"].join(":");

function runSuites(suites: string[], env: Record<string, string> = {}) {
  const run = spawnSync(
    process.execPath,
    [join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"), join(PROJECT_DIR, "test", "run.ts"), ...suites],
    {
      cwd: PROJECT_DIR,
      env: { PATH: BARE_PATH, HOME: dir, ...env },
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  return { status: run.status, out: run.stdout + run.stderr, lastLine: run.stdout.trimEnd().split("\n").pop() };
}

describe("finding the real things", () => {
  const version = pinnedPulumiVersion();

  it("takes the pulumi on PATH only at the lockfile's @pulumi/pulumi version", () => {
    const right = fakePulumi(`v${version}`);
    expect(pulumiEngine({ PATH: `${right}:${BARE_PATH}` })).toEqual({ found: right });
    const wrong = pulumiEngine({ PATH: `${fakePulumi("v3.1.0")}:${BARE_PATH}` });
    expect(isFound(wrong)).toBe(false);
    expect(!isFound(wrong) && wrong.missing).toMatch(
      new RegExp(`is v3\\.1\\.0, not v${version.replace(/\./g, "\\.")}`),
    );
  });

  it("says how to install the pinned CLI when there is none", () => {
    const none = pulumiEngine({ PATH: BARE_PATH });
    expect(!isFound(none) && none.missing).toContain(
      `curl -fsSL https://get.pulumi.com | sh -s -- --version ${version}`,
    );
  });

  it("takes the FreeSWITCH image from FREESWITCH_IMAGE, and says how to name one", () => {
    expect(freeswitchImage({ FREESWITCH_IMAGE: "example/freeswitch@sha256:" + "ab".repeat(32) })).toEqual({
      found: "example/freeswitch@sha256:" + "ab".repeat(32),
    });
    const none = freeswitchImage({});
    expect(!isFound(none) && none.missing).toMatch(
      /^FREESWITCH_IMAGE is not set: .*FREESWITCH_IMAGE=<image> npm run test:freeswitch/,
    );
  });

  it("needs root on Linux for namespaces and Docker", () => {
    expect(rootOnLinux("linux", 0)).toEqual({ found: true });
    expect(isFound(rootOnLinux("linux", 1000))).toBe(false);
    expect(isFound(rootOnLinux("darwin", 0))).toBe(false);
  });
});

describe("npm test without a Pulumi CLI or a FreeSWITCH image", () => {
  it("skips the real suites, each with one line, and claims none of them", () => {
    const run = runSuites(["engine", "freeswitch", "e2e"]);
    expect(run.status).toBe(0);
    for (const suite of ["engine", "freeswitch", "e2e"])
      expect(run.out.split("\n").filter((l) => l.startsWith(`[test] skipped ${suite}: `))).toHaveLength(1);
    expect(run.out).toMatch(/^ {2}engine +SKIPPED +no Pulumi CLI on PATH/m);
    expect(run.out).toContain("Not claimed by this run (skipped, nothing of theirs ran): engine, freeswitch, e2e.");
    expect(run.lastLine).toBe("tests: 0 passed, 0 failed");
  });

  it("fails instead where the real suites are required (REQUIRE_REAL_SUITES=1)", () => {
    const run = runSuites(["engine", "freeswitch"], { REQUIRE_REAL_SUITES: "1" });
    expect(run.status).toBe(1);
    expect(run.out).toMatch(/^ {2}engine +FAILED +no Pulumi CLI on PATH/m);
    expect(run.out).toMatch(/^ {2}freeswitch +not run +an earlier suite failed/m);
    expect(run.lastLine).toBe("tests: 0 passed, 1 failed");
  });

  it("refuses a suite it does not know, naming the ones it has", () => {
    const run = runSuites(["engines"]);
    expect(run.status).toBe(2);
    expect(run.out).toContain(
      "the suites are: typecheck, lint, unit, container, acme, engine, freeswitch, e2e, format",
    );
  });
});

describe("the summary", () => {
  it("counts the tests of the suites that ran, a failed setup as one failure, and ends on the count line", () => {
    const text = formatSummary([
      { name: "unit", what: "u", status: "passed", counts: { passed: 500, failed: 0, skipped: 2 }, seconds: 90.4 },
      { name: "container", what: "c", status: "failed", detail: "bash .ci/docker-setup.sh exited 1", seconds: 3 },
      { name: "engine", what: "e", status: "skipped", detail: "no Pulumi CLI on PATH" },
    ]);
    const lines = text.split("\n");
    expect(lines).toContain("  unit       passed   500 tests passed, 2 skipped, 90 s");
    expect(lines).toContain("  container  FAILED   bash .ci/docker-setup.sh exited 1, 3 s");
    expect(lines.at(-1)).toBe("tests: 500 passed, 1 failed, 2 skipped");
  });
});
