/**
 * The README is a map a newcomer reads in minutes; everything else is a page of its own under
 * docs/. Every link between them must lead somewhere, and so must every page or section the code
 * names: in a problem's fix text ("see docs/configuration.md") or a comment.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";

const PAGES = [
  "README.md",
  "api/README.md",
  ...readdirSync(join(PROJECT_DIR, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The relative targets of a Markdown text's links, without their #anchor. */
export function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith("#"))
    .map((t) => t.split("#")[0]);
}

/**
 * The Markdown pages a text names, with the #anchor or the section it names in them: quoted after
 * the page ('docs/x.md, "Title"') or before it ("the configuration reference in README.md").
 */
export function pageReferences(text: string): { page: string; anchor?: string; section?: string }[] {
  // A reference may run over a comment's line break (" * " or "// " starts the next line).
  const flat = text.replace(/\n\s*(?:\*(?!\/)|\/\/)?\s*/g, " ");
  const page = String.raw`((?:[\w-]+\/)*(?:[\w.-]+\.md|README))`;
  const pattern = new RegExp(
    String.raw`(?:\bthe ([A-Za-z][\w -]{2,40}?) (?:section )?in )?(?<![\w/.<-])${page}(?:#([\w-]+)|,? "([^"]+)")?`,
    "g",
  );
  return [...flat.matchAll(pattern)].map((m) => ({
    page: m[2].endsWith(".md") ? m[2] : `${m[2]}.md`,
    ...(m[3] ? { anchor: m[3] } : {}),
    ...(m[4] || m[1] ? { section: m[4] ?? m[1] } : {}),
  }));
}

/** A page's headings, lower-cased (backticks dropped), and as GitHub's anchors. */
function headings(markdown: string): { titles: string[]; anchors: string[] } {
  const titles = [...markdown.matchAll(/^#{1,6} +(.+?) *$/gm)].map((m) => m[1].replace(/`/g, "").toLowerCase());
  const anchors = titles.map((t) => t.replace(/[^\w\- ]/g, "").replace(/ /g, "-"));
  return { titles, anchors };
}

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(PROJECT_DIR, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
const SOURCES = ["index.ts", ...["sip", "api", "components", "bin", "policy"].flatMap(sourceFiles)];

describe("the documentation", () => {
  it("finds the links in a page (the reader works)", () => {
    expect(
      relativeLinks("see [ops](docs/operations.md#first-deploy), [web](https://example.org) and [here](#x)"),
    ).toEqual(["docs/operations.md"]);
  });

  it.each(PAGES)("%s: every relative link resolves to a file of the repository", (page) => {
    for (const target of relativeLinks(readFileSync(join(PROJECT_DIR, page), "utf8"))) {
      expect(existsSync(join(PROJECT_DIR, dirname(page), target)), `${page} → ${target}`).toBe(true);
    }
  });

  it("keeps the README short: what it is, the two commands, the map, where to go next", () => {
    const readme = readFileSync(join(PROJECT_DIR, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(200);
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
    expect(readme).toMatch(/^## Architecture$/m);
  });

  it("links every page under docs/ from the README", () => {
    const linked = new Set(relativeLinks(readFileSync(join(PROJECT_DIR, "README.md"), "utf8")));
    for (const page of PAGES.filter((p) => p.startsWith("docs/"))) expect(linked, page).toContain(page);
  });

  it("gives each page a title of its own, so it stands alone", () => {
    for (const page of PAGES) expect(readFileSync(join(PROJECT_DIR, page), "utf8"), page).toMatch(/^# \S/);
  });
});

describe("the pages and sections the code names", () => {
  it("reads the references in a text (the reader works)", () => {
    expect(pageReferences("correct x; see docs/configuration.md")).toEqual([{ page: "docs/configuration.md" }]);
    expect(
      pageReferences(
        ' * the job (docs/deployment.md,\n * "TLS", says why) and README, "Rotating a secret"; docs/monitoring.md#trunk-alerts',
      ),
    ).toEqual([
      { page: "docs/deployment.md", section: "TLS" },
      { page: "README.md", section: "Rotating a secret" },
      { page: "docs/monitoring.md", anchor: "trunk-alerts" },
    ]);
    expect(pageReferences("x; see the configuration reference in README.md")).toEqual([
      { page: "README.md", section: "configuration reference" },
    ]);
    expect(pageReferences("usage: tsx bin/previewComment.ts <stack> <comment.md>")).toEqual([]);
    expect(headings("# A page\n\n## Another image: `freeswitch.image`\n").anchors).toEqual([
      "a-page",
      "another-image-freeswitchimage",
    ]);
  });

  it("covers the product's source, where every problem's fix text is written", () => {
    expect(SOURCES).toEqual(
      expect.arrayContaining([
        "sip/model.ts",
        "sip/checks.ts",
        "api/metrics.ts",
        "components/telephony.ts",
        "index.ts",
      ]),
    );
  });

  it.each(SOURCES.filter((f) => pageReferences(readFileSync(join(PROJECT_DIR, f), "utf8")).length > 0))(
    "%s names only pages and sections that exist",
    (file) => {
      for (const ref of pageReferences(readFileSync(join(PROJECT_DIR, file), "utf8"))) {
        const where = `${file} → ${ref.page}${ref.anchor ? `#${ref.anchor}` : ""}${ref.section ? `, "${ref.section}"` : ""}`;
        expect(existsSync(join(PROJECT_DIR, ref.page)), where).toBe(true);
        const { titles, anchors } = headings(readFileSync(join(PROJECT_DIR, ref.page), "utf8"));
        if (ref.anchor) expect(anchors, where).toContain(ref.anchor);
        if (ref.section) expect(titles, where).toContain(ref.section.toLowerCase());
      }
    },
  );
});
