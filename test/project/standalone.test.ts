/**
 * What someone who clones the repository reads must stand on its own: no pointers into the
 * workspace this project was built in (its shared folder, source documents by number, issue
 * numbers), in the READMEs, in the stack files, in what `npm start` prints or in any rendered
 * file. And the licence package.json names is there.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderStackToDir } from "../../bin/render";
import { PROJECT_DIR } from "../support/stackConfig";

const WORKSPACE_REFERENCE = /\.\.\/shared\b|\/work\/shared|\bshared\/(?:seeds|DESIGN)|\bseeds?\s*(?:file\s*)?#?\d{2,}|\bissues?\s*#?\d+\b|\bDESIGN\.md\b/i;

function references(text: string): string[] {
  return text.split("\n").filter((line) => WORKSPACE_REFERENCE.test(line));
}

const stacks = readdirSync(PROJECT_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s);
const out = mkdtempSync(join(tmpdir(), "ops-standalone-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("what a user reads stands alone", () => {
  it("finds a workspace reference when there is one (the pattern works)", () => {
    for (const line of ["see ../shared/seeds/", "as seed 002 describes", "(seed 000 firewall table)", "### On the host (issue 5)", "DESIGN.md's starting point"]) {
      expect(references(line), line).toEqual([line]);
    }
    expect(references("the shared 2-core machine; tls-first-issue; issue/renew")).toEqual([]);
  });

  const docs = readdirSync(join(PROJECT_DIR, "docs")).map((f) => `docs/${f}`);
  it.each(["README.md", "api/README.md", ...docs, ...stacks.map((s) => `Pulumi.${s}.yaml`), "Pulumi.yaml"])("%s has none", (file) => {
    expect(references(readFileSync(join(PROJECT_DIR, file), "utf8"))).toEqual([]);
  });

  it.each(stacks)("npm start for %s prints none and renders none into any file", (stack) => {
    const { outDir, summary } = renderStackToDir(PROJECT_DIR, stack, out);
    expect(references(summary)).toEqual([]);
    const files = readdirSync(outDir, { recursive: true, encoding: "utf8" }).filter((p) => statSync(join(outDir, p)).isFile());
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
