/**
 * `npm run docs`: one description per key, in sip/schema.ts, and every other place generated from
 * it. The command is run on a throwaway copy of the project whose schema is edited, so what it
 * writes is seen on disk; the parts it must leave alone are checked on the real files.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  BEGIN_MARKER,
  END_MARKER,
  GENERATED_FILES,
  generatedFiles,
  projectFileReader,
  spliceGenerated,
  withProjectDescriptions,
} from "../../bin/docs";
import { configKeyDocs } from "../../sip/configReference";
import { PROJECT_DIR } from "../support/environment";

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

function git(dir: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args],
    { cwd: dir, encoding: "utf8" },
  );
}

/** A committed copy of the whole project (but its dependencies, build output and history). */
function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "telephony-docs-test-"));
  copies.push(dir);
  const skipped = new Set(["node_modules", ".git", "out", "dist"].map((d) => join(PROJECT_DIR, d)));
  cpSync(PROJECT_DIR, dir, { recursive: true, filter: (src) => !skipped.has(src) });
  symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"), "dir");
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "base");
  return dir;
}

function editSchema(dir: string, from: string, to: string): void {
  const path = join(dir, "sip/schema.ts");
  const text = readFileSync(path, "utf8");
  expect(text.split(from).length, `sip/schema.ts holds ${JSON.stringify(from)} once`).toBe(2);
  writeFileSync(path, text.replace(from, to));
}

/** Runs `npm run docs` in the copy; the files that differ from the commit afterwards. */
function runDocs(dir: string): string[] {
  execFileSync(process.execPath, [join(PROJECT_DIR, "node_modules/tsx/dist/cli.mjs"), "bin/docs.ts"], {
    cwd: dir,
    encoding: "utf8",
  });
  return git(dir, "status", "--porcelain", "--untracked-files=all")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.slice(3))
    .sort();
}

const ENVIRONMENT =
  "The environment's name; production protects the primary IPs and turns on post-deploy verification by default.";
const SSH_PORT = "The port the machine's SSH server listens on.";

describe("npm run docs", () => {
  it("on an unchanged project changes nothing", () => {
    const dir = projectCopy();
    expect(runDocs(dir)).toEqual([]);
  });

  it("carries a changed top-level key's description into docs/configuration.md, Pulumi.yaml and the JSON Schema, and changes nothing else", () => {
    const dir = projectCopy();
    const changed = "The environment's name, reworded for this test.";
    editSchema(dir, ENVIRONMENT, changed);
    expect(runDocs(dir)).toEqual([...GENERATED_FILES, "sip/schema.ts"].sort());
    for (const file of GENERATED_FILES) {
      const text = readFileSync(join(dir, file), "utf8");
      expect(text, file).toContain("reworded for this test");
      expect(text, file).not.toContain(ENVIRONMENT);
    }
    expect(parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")).config["telephony:environment"].description).toBe(
      changed,
    );
  });

  it("carries a nested key's description into the reference and the JSON Schema (Pulumi.yaml describes top-level keys only)", () => {
    const dir = projectCopy();
    editSchema(dir, SSH_PORT, "Reworded: the SSH port.");
    expect(runDocs(dir)).toEqual(["docs/configuration.md", "schema/stack.schema.json", "sip/schema.ts"]);
    expect(readFileSync(join(dir, "docs/configuration.md"), "utf8")).toMatch(
      /^\| `host\.existing\.sshPort` \| integer 1–65535 \| `22` \| Reworded: the SSH port\. Example: `2222`\. \|$/m,
    );
    const schema = JSON.parse(readFileSync(join(dir, "schema/stack.schema.json"), "utf8"));
    expect(schema.properties.config.properties["telephony:host"].properties.existing.properties.sshPort).toMatchObject({
      description: "Reworded: the SSH port.",
      default: 22,
      examples: [2222],
    });
  });
});

describe("the generated parts", () => {
  const files = generatedFiles(projectFileReader(PROJECT_DIR));

  it("leave Pulumi.yaml's declarations as they were: only the descriptions are generated", () => {
    const text = readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8");
    const withoutDescriptions = (yaml: string) => {
      const doc = parse(yaml);
      for (const decl of Object.values<Record<string, unknown>>(doc.config)) delete decl.description;
      return doc;
    };
    const blanked = text.replace(/^(\s+description: ).*$/gm, '$1"to be generated"');
    const regenerated = withProjectDescriptions(blanked, configKeyDocs());
    expect(withoutDescriptions(regenerated)).toEqual(withoutDescriptions(text));
    expect(regenerated).toBe(files["Pulumi.yaml"]);
    // Comments stay: they say why the declarations are as they are.
    expect(regenerated).toContain("# Project-level config declarations.");
  });

  it("describe every key Pulumi.yaml declares from the schema, and refuse a declaration the schema lacks", () => {
    const project = parse(files["Pulumi.yaml"]);
    const docs = configKeyDocs();
    for (const [key, decl] of Object.entries<{ description: string }>(project.config)) {
      const doc = docs.find((d) => `telephony:${d.key}` === key);
      expect(doc, key).toBeDefined();
      expect(decl.description, key).toContain(doc!.description);
    }
    const stray = `${readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8")}  telephony:hots:\n    description: x\n`;
    expect(() => withProjectDescriptions(stray, docs)).toThrow(
      /declares telephony:hots, which sip\/schema\.ts does not define/,
    );
  });

  it("keep the hand-written prose of docs/configuration.md around the markers", () => {
    const doc = files["docs/configuration.md"];
    const hand = readFileSync(join(PROJECT_DIR, "docs/configuration.md"), "utf8");
    expect(doc.slice(0, doc.indexOf(BEGIN_MARKER))).toBe(hand.slice(0, hand.indexOf(BEGIN_MARKER)));
    expect(doc.slice(doc.indexOf(END_MARKER))).toBe(hand.slice(hand.indexOf(END_MARKER)));
    expect(doc).toContain("## Decisions worth knowing");
  });

  it("list every key in the reference, nested ones too", () => {
    const doc = files["docs/configuration.md"];
    for (const key of configKeyDocs().map((d) => d.key)) expect(doc, key).toContain(`| \`${key}\` |`);
  });

  it("refuse to splice into a page without both markers once each", () => {
    expect(() => spliceGenerated("no markers", "x")).toThrow(/must hold the markers once each/);
    expect(() => spliceGenerated(`${END_MARKER}\n${BEGIN_MARKER}`, "x")).toThrow(/must hold the markers once each/);
    expect(() => spliceGenerated(`${BEGIN_MARKER}\n${BEGIN_MARKER}\n${END_MARKER}`, "x")).toThrow(
      /must hold the markers once each/,
    );
    expect(spliceGenerated(`a\n${BEGIN_MARKER}\nold\n${END_MARKER}\nb`, "new")).toBe(
      `a\n${BEGIN_MARKER}\n\nnew\n\n${END_MARKER}\nb`,
    );
  });
});
