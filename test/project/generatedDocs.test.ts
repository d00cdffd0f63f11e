/**
 * The files generated from the schema's descriptions (bin/docs.ts) are what `npm run docs` makes
 * of the schema as it is: a description changed in sip/schema.ts without running it fails here,
 * naming the file and the command.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GENERATED_FILES, generatedFiles, projectFileReader } from "../../bin/docs";
import { PROJECT_DIR } from "../support/environment";

const expected = generatedFiles(projectFileReader(PROJECT_DIR));

describe("the files generated from sip/schema.ts", () => {
  it.each(GENERATED_FILES)("%s is current", (file) => {
    const path = join(PROJECT_DIR, file);
    const stale = `${file} is not what sip/schema.ts generates: run \`npm run docs\` and commit the result`;
    expect(existsSync(path), stale).toBe(true);
    // Compared as a boolean first so the failure leads with the fix, not a long diff.
    const current = readFileSync(path, "utf8");
    expect(current === expected[file], stale).toBe(true);
  });
});
