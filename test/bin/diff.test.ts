/**
 * `npm run diff -- <ref>`: the rendered-file diff reviewers read in pull requests. Each test builds
 * a throwaway git repository holding a copy of the project (its own bin/ and sip/), commits it,
 * changes the working tree and diffs against the commit, so both sides run real renderer code.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DiffUsageError, formatComment, renderedDiff } from "../../bin/diff";
import { PROJECT_DIR } from "../support/environment";

const ACL = "prod/srv/telephony/freeswitch/conf/autoload_configs/acl.conf.xml";
const UFW = "prod/srv/telephony/host/ufw.sh";
const JAIL = "prod/etc/fail2ban/jail.d/freeswitch-telephony.conf";
const repos: string[] = [];

function git(dir: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args],
    { cwd: dir, encoding: "utf8" },
  );
}

/** A git repository with the project's code and prod stack committed; `only` limits what is copied. */
function projectRepo(only?: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "telephony-diff-test-"));
  repos.push(dir);
  for (const entry of only ?? [
    "bin",
    "sip",
    "api",
    "Pulumi.yaml",
    "Pulumi.prod.yaml",
    "package.json",
    "tsconfig.json",
  ]) {
    cpSync(join(PROJECT_DIR, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, ".gitignore"), "node_modules\nout/\n");
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "base");
  return dir;
}

function edit(dir: string, file: string, change: (text: string) => string): void {
  const path = join(dir, file);
  const before = readFileSync(path, "utf8");
  const after = change(before);
  expect(after, `edit of ${file} changed nothing`).not.toBe(before);
  writeFileSync(path, after);
}

/** Files named in the patch's `diff --git` lines. */
const changedFiles = (patch: string) => [...patch.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1]);
/** Removed and added content lines, without the ---/+++ file headers. */
const changedLines = (patch: string, sign: "-" | "+") =>
  patch.split("\n").filter((l) => l.startsWith(sign) && !l.startsWith(`${sign}${sign}${sign} `));

afterEach(() => {
  for (const dir of repos.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("npm run diff -- <ref>", () => {
  it("prints nothing and exits 0 when nothing rendered changed", () => {
    const dir = projectRepo();
    const run = spawnSync(process.execPath, [require.resolve("tsx/cli"), join(dir, "bin", "diff.ts"), "HEAD"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("");
    expect(run.status).toBe(0);
  });

  it("shows a changed trunk range as ACL, UFW and fail2ban ignoreip lines, and nothing else", () => {
    const dir = projectRepo();
    edit(dir, "Pulumi.prod.yaml", (t) =>
      t.replace(
        "preset: plusnet\n",
        "preset: plusnet\n      sourceRanges: [92.197.176.0/24, 92.197.177.0/24, 92.197.183.0/24]\n",
      ),
    );
    const { patch, notes } = renderedDiff(dir, "HEAD");
    expect(notes).toEqual([]);
    expect(changedFiles(patch).sort()).toEqual([ACL, JAIL, UFW].sort());
    // The ACL node, the two UFW rules (5060/udp, 5061/tcp) and the jail's ignoreip, each swapped.
    expect(changedLines(patch, "-")).toHaveLength(4);
    expect(changedLines(patch, "+")).toHaveLength(4);
    for (const line of changedLines(patch, "-")) expect(line).toContain("92.197.182.0/24");
    for (const line of changedLines(patch, "+")) expect(line).toContain("92.197.183.0/24");
    expect(patch).toContain(`+      <node type="allow" cidr="92.197.183.0/24"/>`);
    expect(patch).toContain("+ufw allow proto tcp from 92.197.183.0/24 to any port 5061");
  });

  it("renders the ref with the ref's own code, so a renderer change shows as a diff", () => {
    const dir = projectRepo();
    edit(dir, "sip/render/ufw.ts", (t) =>
      t.replace('"ufw default deny incoming",', '"ufw default deny incoming",\n    "ufw logging low",'),
    );
    const { patch } = renderedDiff(dir, "HEAD");
    expect(changedFiles(patch)).toEqual([UFW]);
    expect(changedLines(patch, "+")).toEqual(["+ufw logging low"]);
    expect(changedLines(patch, "-")).toEqual([]);
  });

  it("shows a changed trunk realm in the gateway document the config API serves for its profile", () => {
    const dir = projectRepo();
    edit(dir, "Pulumi.prod.yaml", (t) =>
      t.replace("preset: plusnet\n", "preset: plusnet\n      realm: sip.plusnet.de\n"),
    );
    const { patch, notes } = renderedDiff(dir, "HEAD");
    expect(notes).toEqual([]);
    expect(changedFiles(patch)).toEqual(["prod/config-api/gateways/external-ipv4.xml"]);
    expect(changedLines(patch, "+")).toEqual(['+            <param name="realm" value="sip.plusnet.de"/>']);
    expect(changedLines(patch, "-")).toEqual([]);
  });

  it("shows a stack that exists on one side only as files added or deleted, and says so", () => {
    const dir = projectRepo();
    // A stack of its own: prod's host name belongs to prod.
    writeFileSync(
      join(dir, "Pulumi.old.yaml"),
      readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")
        .replace("hostname: sip.xynap.de", "hostname: sip-old.xynap.de")
        .replace("hostnameOwnedBy: [prod]", "hostnameOwnedBy: [old]"),
    );
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "old stack");
    unlinkSync(join(dir, "Pulumi.old.yaml"));
    cpSync(join(PROJECT_DIR, "Pulumi.staging.yaml"), join(dir, "Pulumi.staging.yaml"));

    const { patch, notes } = renderedDiff(dir, "HEAD");
    expect(notes).toEqual([
      expect.stringContaining("stack staging is new"),
      expect.stringContaining("stack old is removed"),
    ]);
    const files = changedFiles(patch);
    expect(files.filter((f) => f.startsWith("prod/"))).toEqual([]);
    expect(files).toContain("staging/srv/telephony/host/ufw.sh");
    expect(files).toContain("old/srv/telephony/host/ufw.sh");
    expect(patch).toMatch(
      /^diff --git a\/staging\/srv\/telephony\/host\/ufw.sh b\/\S+\nnew file mode 100644\n--- \/dev\/null$/m,
    );
    expect(patch).toMatch(
      /^diff --git a\/old\/srv\/telephony\/host\/ufw.sh b\/\S+\ndeleted file mode 100644\n--- a\/old\/srv\/telephony\/host\/ufw.sh\n\+\+\+ \/dev\/null$/m,
    );
    // Secret files appear with their mode and the offline mask, never a value.
    expect(patch).toMatch(
      /^new file mode 100600\n--- \/dev\/null\n\+\+\+ b\/staging\/srv\/telephony\/api\/secrets\/admin_token\n@@ -0,0 \+1,1 @@\n\+\*{8}$/m,
    );
  });

  it("diffs against a ref that predates bin/render.ts without crashing, and says so", () => {
    const dir = projectRepo(["Pulumi.yaml", "Pulumi.prod.yaml"]);
    for (const entry of ["bin", "sip", "api", "package.json", "tsconfig.json"])
      cpSync(join(PROJECT_DIR, entry), join(dir, entry), { recursive: true });
    const { patch, notes } = renderedDiff(dir, "HEAD");
    expect(notes).toEqual([expect.stringContaining("HEAD predates bin/render.ts")]);
    expect(changedFiles(patch)).toContain(UFW);
    expect(patch).toContain("new file mode 100644");
  });

  it("rejects a ref git does not know, naming it", () => {
    const dir = projectRepo(["Pulumi.yaml", "Pulumi.prod.yaml"]);
    expect(() => renderedDiff(dir, "origin/no-such-branch")).toThrow(DiffUsageError);
    expect(() => renderedDiff(dir, "origin/no-such-branch")).toThrow(/origin\/no-such-branch/);
  });
});

describe("the pull-request comment (--comment)", () => {
  const patchOf = (lines: number) =>
    [
      "diff --git a/prod/x b/prod/x",
      "--- a/prod/x",
      "+++ b/prod/x",
      "@@ -1,1 +1,1 @@",
      ...Array.from({ length: lines }, (_, i) => `+line ${i} ${"x".repeat(60)}`),
    ].join("\n") + "\n";

  it("says there is no change when the diff is empty", () => {
    expect(formatComment({ patch: "", notes: [] }, "origin/main")).toContain(
      "No change to the files any stack pushes to its host.",
    );
  });

  it("carries the notes and the diff in a diff block", () => {
    const body = formatComment({ patch: patchOf(2), notes: ["stack staging is new"] }, "origin/main");
    expect(body).toContain("- stack staging is new");
    expect(body).toContain("```diff\ndiff --git a/prod/x b/prod/x\n");
    expect(body.trimEnd().endsWith("```")).toBe(true);
  });

  it("stays under the size limit and says where it was cut", () => {
    const body = formatComment({ patch: patchOf(5000), notes: [] }, "origin/main", 60_000);
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body).toMatch(/Cut here: \d+ more diff lines\. Run `npm run diff -- origin\/main`/);
    // Cut at a line boundary, and the code block is closed.
    expect(body).toMatch(/\n\+line \d+ x{60}\n```\n/);
  });

  it("keeps rendered content that contains backticks inside the code block", () => {
    const body = formatComment({ patch: "+echo ```\n", notes: [] }, "origin/main");
    expect(body).toContain("````diff\n+echo ```\n````");
  });
});
