/**
 * The PR workflow's preview step: its comment carries the outcome and pulumi's own words, so a
 * failed preview's reason reaches the pull request. Run against a stand-in `pulumi` on PATH that
 * records its arguments and answers as the CLI does for a stack that does not exist.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatPreviewComment, PREVIEW_COMMENT_MAX_CHARS } from "../../bin/previewComment";
import { PROJECT_DIR } from "../support/environment";

const SCRIPT = join(PROJECT_DIR, "bin", "previewComment.ts");
const dir = mkdtempSync(join(tmpdir(), "ops-preview-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runWithPulumi(body: string, stack = "acme/prod") {
  writeFileSync(join(dir, "pulumi"), `#!/bin/sh\necho "$*" > "${dir}/args"\n${body}`);
  chmodSync(join(dir, "pulumi"), 0o755);
  const out = join(dir, "comment.md");
  const run = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, stack, out], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: "utf8",
  });
  return { ...run, comment: readFileSync(out, "utf8"), args: readFileSync(join(dir, "args"), "utf8").trim() };
}

describe("the preview comment", () => {
  it("posts a failed preview's reason, and fails the step with pulumi's status", () => {
    const run = runWithPulumi(
      `echo "Previewing update (acme/prod)" ; echo "error: no stack named 'acme/prod' found" >&2; exit 255\n`,
    );
    expect(run.status).toBe(255);
    expect(run.comment).toMatch(/^### `pulumi preview` of stack `acme\/prod` \*\*failed\*\* \(exit 255\)/);
    expect(run.comment).toContain("error: no stack named 'acme/prod' found");
    // The log still shows everything as it ran.
    expect(run.stderr).toContain("no stack named");
    expect(run.args).toBe("preview --stack acme/prod --diff --policy-pack policy --non-interactive --color never");
  });

  it("posts a successful preview's diff", () => {
    const run = runWithPulumi(`printf '  ~ files-acl update\\nResources:\\n    ~ 1 to update\\n'\n`);
    expect(run.status).toBe(0);
    expect(run.comment).toMatch(/^### `pulumi preview` of stack `acme\/prod` succeeded/);
    expect(run.comment).toContain("~ 1 to update");
  });

  it("says so when the CLI is missing", () => {
    const out = join(dir, "missing.md");
    const run = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, "prod", out], {
      env: { ...process.env, PATH: "/nonexistent" },
      encoding: "utf8",
    });
    expect(run.status).toBe(127);
    expect(readFileSync(out, "utf8")).toContain("cannot run pulumi");
  });

  it("stays under GitHub's comment limit, keeping the beginning and the end, without colour codes or a breakable fence", () => {
    const output = `\u001b[31mfirst line\u001b[0m\n${"x".repeat(200_000)}\n\`\`\`\nerror: the reason at the end\n`;
    const comment = formatPreviewComment("prod", 1, output);
    expect(comment.length).toBeLessThanOrEqual(PREVIEW_COMMENT_MAX_CHARS);
    expect(comment).toContain("first line");
    expect(comment).not.toContain("\u001b[");
    expect(comment).toContain("error: the reason at the end");
    expect(comment).toMatch(/characters cut/);
    expect(comment).toContain("\n````\n");
  });
});
