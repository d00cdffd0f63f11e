/**
 * The README is a map a newcomer reads in minutes; everything else is a page of its own under
 * docs/. Every link between them must lead somewhere.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..");
const PAGES = ["README.md", "api/README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** The relative targets of a Markdown text's links, without their #anchor. */
export function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith("#")).map((t) => t.split("#")[0]);
}

describe("the documentation", () => {
  it("finds the links in a page (the reader works)", () => {
    expect(relativeLinks("see [ops](docs/operations.md#first-deploy), [web](https://example.org) and [here](#x)")).toEqual(["docs/operations.md"]);
  });

  it.each(PAGES)("%s: every relative link resolves to a file of the repository", (page) => {
    for (const target of relativeLinks(readFileSync(join(ROOT, page), "utf8"))) {
      expect(existsSync(join(ROOT, dirname(page), target)), `${page} → ${target}`).toBe(true);
    }
  });

  it("keeps the README short: what it is, the two commands, the map, where to go next", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(200);
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
    expect(readme).toMatch(/^## Architecture$/m);
  });

  it("links every page under docs/ from the README", () => {
    const linked = new Set(relativeLinks(readFileSync(join(ROOT, "README.md"), "utf8")));
    for (const page of PAGES.filter((p) => p.startsWith("docs/"))) expect(linked, page).toContain(page);
  });

  it("gives each page a title of its own, so it stands alone", () => {
    for (const page of PAGES) expect(readFileSync(join(ROOT, page), "utf8"), page).toMatch(/^# \S/);
  });
});
