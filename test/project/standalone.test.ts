/**
 * What someone who clones the repository reads must stand on its own: no pointers into the
 * workspace this project was built in (its shared folder, source documents by number or as "the
 * seed", its design notes, issue or session numbers), in any file of the repository (source,
 * tests, CI scripts, docs, stack files), in what `npm start` prints or in any rendered file.
 * Public references (an RFC, a FreeSWITCH source file, "signalwire/freeswitch #2400", a
 * provider's documentation) are what a reader can follow, and stay. And the licence
 * package.json names is there.
 */
import { readdirSync, readFileSync, rmSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderStackToDir } from "../../bin/render";
import { PROJECT_DIR } from "../support/environment";

const WORKSPACE_REFERENCE = new RegExp(
  [
    String.raw`\.\.\/shared\b|\/work\/shared|\bshared\/(?:seeds|DESIGN|FACTS)`,
    String.raw`\bseeds?\s*(?:file\s*|documents?\s*)?#?\d{2,}|\bseed documents?\b`,
    // "the seed('s)" as a source a reader cannot see; a random password's seed is not one.
    String.raw`\bthe seed(?:'s|s)?\b(?!\s+(?:password|value|bytes))`,
    String.raw`\bissues?\s*#?\d+\b|\bDESIGN\.md\b|\bFACTS\.md\b`,
    String.raw`\b(?:session|stop|round)\s+#?\d+\b(?!\s*(?:s|ms|seconds?|minutes?)\b)`,
  ].join("|"),
  "i",
);

function references(text: string): string[] {
  return text.split("\n").filter((line) => WORKSPACE_REFERENCE.test(line));
}

// What a clone does not hold (.gitignore), or holds as others wrote it: the lockfile (package
// names and hashes), the fixtures that quote external programs' output and Debian's files
// verbatim, and this file, which must spell out what it looks for.
const NOT_OURS_DIRS = new Set(["node_modules", ".git", "out", "dist", ".pulumi"]);
const NOT_OURS_FILES = new Set(["package-lock.json", join("test", "project", "standalone.test.ts")]);
const FIXTURES = join("test", "fixtures") + sep;

/** Every text file of the checkout a person reads, relative to it. */
function repositoryTextFiles(dir = PROJECT_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const rel = relative(PROJECT_DIR, path);
    if (entry.isDirectory()) return NOT_OURS_DIRS.has(entry.name) ? [] : repositoryTextFiles(path);
    if (!entry.isFile() || NOT_OURS_FILES.has(rel) || rel.startsWith(FIXTURES) || rel.endsWith(".log")) return [];
    return readFileSync(path).includes(0) ? [] : [rel];
  });
}

const stacks = readdirSync(PROJECT_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s);
const out = mkdtempSync(join(tmpdir(), "ops-standalone-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("what a user reads stands alone", () => {
  it("finds a workspace reference when there is one (the pattern works)", () => {
    for (const line of [
      "see ../shared/seeds/",
      "as seed 002 describes",
      "(seed 000 firewall table)",
      "### On the host (issue 5)",
      "DESIGN.md's starting point",
      "Provider presets, from the seed documents.",
      "Sofia profiles with the seed's parameters.",
      "measured in session 4",
      "found at stop 3",
    ]) {
      expect(references(line), line).toEqual([line]);
    }
    expect(
      references(
        "the shared 2-core machine; tls-first-issue; issue/renew; its seed password; RFC 3261; signalwire/freeswitch #2400; stop 10 s",
      ),
    ).toEqual([]);
  });

  const files = repositoryTextFiles();
  it("scans the whole repository: source, tests, CI scripts, docs, stack files", () => {
    for (const file of [
      "README.md",
      "api/README.md",
      "docs/monitoring.md",
      "Pulumi.yaml",
      "Pulumi.prod.yaml",
      "sip/presets.ts",
      "api/esl.ts",
      "test/run.ts",
      ".ci/docker-setup.sh",
      ".ci/run",
      ".github/workflows/pulumi.yml",
      ".dependency-cruiser.cjs",
      "files/api/Dockerfile",
    ]) {
      expect(files).toContain(file);
    }
    expect(
      files.filter((f) => f.startsWith("node_modules") || f.startsWith(FIXTURES) || f === "package-lock.json"),
    ).toEqual([]);
  });

  it("has none in any file of the repository", () => {
    const found = files.flatMap((file) =>
      references(readFileSync(join(PROJECT_DIR, file), "utf8")).map((line) => `${file}: ${line.trim()}`),
    );
    expect(found).toEqual([]);
  });

  it.each(stacks)("npm start for %s prints none and renders none into any file", (stack) => {
    const { outDir, summary } = renderStackToDir(PROJECT_DIR, stack, out);
    expect(references(summary)).toEqual([]);
    const files = readdirSync(outDir, { recursive: true, encoding: "utf8" }).filter((p) =>
      statSync(join(outDir, p)).isFile(),
    );
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(references(readFileSync(join(outDir, file), "utf8")), file).toEqual([]);
  });

  it("ships the licence package.json names", () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8"));
    expect(pkg.license).toBe("MIT");
    const licence = readFileSync(join(PROJECT_DIR, "LICENSE"), "utf8");
    expect(licence).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(licence).toContain("Permission is hereby granted, free of charge, to any person obtaining a copy");
  });
});
