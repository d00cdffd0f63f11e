import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freeswitchImageFiles, writeFreeswitchImageContext } from "../../bin/freeswitchImage";
import { archiveUrl, buildModulesConf, FREESWITCH_SOURCES, freeswitchImageTag, sourcesTxt } from "../../sip/freeswitchImage";
import { MODULES } from "../../sip/render/core";
import { PROJECT_DIR } from "../helpers/stackConfig";

const temporary: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe("the FreeSWITCH image's build inputs", () => {
  it("build exactly the modules the rendered modules.conf loads, each from its source directory", () => {
    const built = buildModulesConf().trim().split("\n");
    expect(built.map((line) => line.split("/")[1])).toEqual([...MODULES]);
    expect(built).toContain("endpoints/mod_sofia");
    expect(built).toContain("xml_int/mod_xml_curl");
  });

  it("pin every upstream source by full commit ID, in the sources.txt the build reads", () => {
    for (const source of FREESWITCH_SOURCES) expect(source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(sourcesTxt()).toContain("freeswitch signalwire/freeswitch a88d069d6ffb74df797bcaf001f7e63181c07a09\n");
    expect(archiveUrl(FREESWITCH_SOURCES[0])).toBe("https://github.com/freeswitch/sofia-sip/archive/6198851a610b7889c17e2d98fb84617bc1dd7aec.tar.gz");
  });

  it("tag the image by a hash of every build input, so any change to one is a new image", () => {
    const files = freeswitchImageFiles(PROJECT_DIR);
    const tag = freeswitchImageTag(files);
    expect(tag).toMatch(/^[0-9a-f]{16}$/);
    expect(freeswitchImageTag({ ...files })).toBe(tag);
    for (const name of Object.keys(files)) expect(freeswitchImageTag({ ...files, [name]: `${files[name]}#` }), name).not.toBe(tag);
  });

  it("write a build context holding the Dockerfile, its scripts, the pins and the module list", () => {
    const dir = tempDir("fsimg-context-");
    const context = writeFreeswitchImageContext(PROJECT_DIR, dir);
    expect(context.image).toBe(`telephony/freeswitch:${context.tag}`);
    expect(readFileSync(join(dir, "modules.conf"), "utf8")).toBe(buildModulesConf());
    expect(readFileSync(join(dir, "sources.txt"), "utf8")).toBe(sourcesTxt());
    // The scripts are valid shell.
    for (const script of ["build.sh", "fetch-sources.sh"]) execFileSync("bash", ["-n", join(dir, script)]);
  });
});

describe("the build's source verification (build.sh verify)", () => {
  /** A git-archive tarball of a fresh one-commit repository, and that commit's ID. */
  function archive(dir: string): string {
    const repo = join(dir, "repo");
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8" }).trim();
    git("init", "-q");
    writeFileSync(join(repo, "README"), "sources\n");
    git("add", "README");
    git("commit", "-qm", "sources");
    mkdirSync(join(dir, "sources"));
    execFileSync("bash", ["-c", `git -C ${repo} archive --prefix=lib/ HEAD | gzip > ${join(dir, "sources", "lib.tar.gz")}`]);
    return git("rev-parse", "HEAD");
  }

  /** Runs build.sh's verify step with its /build directory at `dir` (the only line changed). */
  function verify(dir: string, pinned: string) {
    writeFileSync(join(dir, "sources.txt"), `lib example/lib ${pinned}\n`);
    const script = readFileSync(join(PROJECT_DIR, "files/freeswitch/build.sh"), "utf8").replace(/^BUILD=\/build$/m, `BUILD=${dir}`);
    writeFileSync(join(dir, "build.sh"), script);
    try {
      return { code: 0, out: execFileSync("bash", [join(dir, "build.sh"), "verify"], { encoding: "utf8", stdio: "pipe" }) };
    } catch (error) {
      return { code: (error as { status: number }).status, out: String((error as { stderr: string }).stderr) };
    }
  }

  it("accepts a tarball carrying the pinned commit ID", () => {
    const dir = tempDir("fsimg-verify-");
    const commit = archive(dir);
    expect(verify(dir, commit)).toEqual({ code: 0, out: `verified lib = example/lib@${commit}\n` });
  });

  it("refuses a tarball of any other commit, naming both", () => {
    const dir = tempDir("fsimg-verify-");
    const commit = archive(dir);
    const other = "0".repeat(40);
    const result = verify(dir, other);
    expect(result.code).not.toBe(0);
    expect(result.out).toContain(`commit ID '${commit}' is not the pinned ${other} of example/lib`);
  });
});
