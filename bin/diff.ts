/**
 * `npm run diff -- <git-ref> [--comment] [--max-chars N]`: what a change does to the files the
 * stacks push to the host. For every Pulumi.<stack>.yaml in the working tree and/or the ref, it
 * renders the bundle as the ref had it and as the working tree has it, and prints a unified diff
 * of the rendered files (paths as on the host, prefixed with the stack), nothing when nothing
 * changed. `--comment` wraps it as a pull-request comment, cut to stay under GitHub's limit.
 *
 * Each side is rendered by its own code: the ref's tree is exported with `git archive` and its own
 * bin/render.ts runs on its own sources and yaml, so a change to a renderer shows in the diff just
 * like a change to the config. `git archive` rather than `git worktree add`: it only reads the
 * repository (no worktree metadata to clean up after a crash) and works in a CI checkout.
 *
 * Secrets: the offline render cannot read them (they are Pulumi-encrypted in the yaml, and
 * bin/stackFile.ts answers "unavailable"); the bundle's secret files hold sip/bundle.ts's mask.
 *
 * The diff itself is jsdiff's createTwoFilesPatch (the `diff` package) rather than
 * `git diff --no-index`: we pair files by host path across two temp trees and label them by stack
 * ourselves, and git's output would carry the temp directories' names and depend on user config
 * (color, diff.noprefix, external diff drivers).
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { createTwoFilesPatch } from "diff";

/** A rendered stack: host path → file. */
export type RenderedTree = ReadonlyMap<string, { readonly content: string; readonly mode: number }>;

export interface RenderedDiff {
  /** The unified diff; "" when nothing changed. */
  readonly patch: string;
  /** What the reader should know beyond the diff: one-sided stacks, a ref without a renderer. */
  readonly notes: readonly string[];
}

export class DiffUsageError extends Error {}

const STACK_FILE = /^Pulumi\.(.+)\.yaml$/;
/** GitHub rejects comment bodies over 65,536 characters; leave room for the sticky-comment marker. */
export const DEFAULT_COMMENT_MAX_CHARS = 60_000;

export function stacksIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => STACK_FILE.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function readTree(dir: string): Map<string, { content: string; mode: number }> {
  const files = new Map<string, { content: string; mode: number }>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else
        files.set("/" + relative(dir, full).split(sep).join("/"), {
          content: readFileSync(full, "utf8"),
          mode: statSync(full).mode & 0o777,
        });
    }
  };
  if (existsSync(dir)) walk(dir);
  return files;
}

const gitMode = (mode: number) => `100${mode.toString(8).padStart(3, "0")}`;
const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The git-style patch between two renderings of one stack (undefined: the stack does not exist on
 * that side). Pure; output order is by host path, so the same inputs always print the same diff.
 */
export function diffTrees(stack: string, before: RenderedTree | undefined, after: RenderedTree | undefined): string {
  const old: RenderedTree = before ?? new Map();
  const cur: RenderedTree = after ?? new Map();
  const paths = [...new Set([...old.keys(), ...cur.keys()])].sort(byPath);
  const out: string[] = [];
  for (const path of paths) {
    const a = old.get(path);
    const b = cur.get(path);
    if (a && b && a.content === b.content && a.mode === b.mode) continue;
    const name = `${stack}${path}`;
    const header = [`diff --git a/${name} b/${name}`];
    if (!a && b) header.push(`new file mode ${gitMode(b.mode)}`);
    else if (a && !b) header.push(`deleted file mode ${gitMode(a.mode)}`);
    else if (a && b && a.mode !== b.mode) header.push(`old mode ${gitMode(a.mode)}`, `new mode ${gitMode(b.mode)}`);
    if ((a?.content ?? "") !== (b?.content ?? "") || !a || !b) {
      const patch = createTwoFilesPatch(
        a ? `a/${name}` : "/dev/null",
        b ? `b/${name}` : "/dev/null",
        a?.content ?? "",
        b?.content ?? "",
        undefined,
        undefined,
        { context: 3 },
      );
      // jsdiff starts with a "=====" separator line; git's format has none.
      header.push(
        ...patch
          .split("\n")
          .slice(1)
          .filter((line, i, all) => i < all.length - 1 || line !== ""),
      );
    }
    out.push(header.join("\n"));
  }
  return out.length ? out.join("\n") + "\n" : "";
}

interface TreeJob {
  /** How notes name this side: the ref, or "the working tree". */
  readonly label: string;
  readonly treeDir: string;
  readonly stacks: readonly string[];
  readonly outRoot: string;
}

interface TreeRender {
  readonly trees: Map<string, RenderedTree>;
  readonly notes: string[];
}

type JobResult =
  | { readonly noExport: true }
  | { readonly loadError: string }
  | { readonly stacks: Record<string, { ok: boolean; error?: string }> };

function tsxCli(): string {
  return require.resolve("tsx/cli");
}

/**
 * Runs in one child process and renders each tree with that tree's own bin/render.ts. Two trees
 * share a process safely: their modules load from different paths, so neither sees the other's code.
 */
const DRIVER = `
const { readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const [jobsFile, resultFile] = process.argv.slice(2);
const results = {};
for (const [index, job] of JSON.parse(readFileSync(jobsFile, "utf8")).entries()) {
  let render;
  try { render = require(join(job.treeDir, "bin", "render.ts")); }
  catch (err) { results[index] = { loadError: String((err && err.message) || err) }; continue; }
  if (typeof render.renderStackToDir !== "function") { results[index] = { noExport: true }; continue; }
  const stacks = {};
  for (const stack of job.stacks) {
    try { render.renderStackToDir(job.treeDir, stack, job.outRoot); stacks[stack] = { ok: true }; }
    catch (err) { stacks[stack] = { ok: false, error: String((err && err.message) || err) }; }
  }
  results[index] = { stacks };
}
writeFileSync(resultFile, JSON.stringify(results));
`;

function run(
  cmd: string,
  args: readonly string[],
  cwd: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const firstLines = (text: string) => text.trim().split("\n").slice(0, 5).join(" / ");

/** Renders each job's stacks with its tree's own code into `<outRoot>/<stack>/`; one result per job. */
function renderTrees(jobs: readonly TreeJob[], workDir: string): TreeRender[] {
  const renders = jobs.map((): TreeRender => ({ trees: new Map(), notes: [] }));
  const runnable = jobs.filter((job, i) => {
    if (job.stacks.length === 0) return false;
    if (existsSync(join(job.treeDir, "bin", "render.ts"))) return true;
    renders[i].notes.push(
      `${job.label} predates bin/render.ts: it has no offline renderer, so its side of the diff is empty and every file shows as new.`,
    );
    return false;
  });
  if (runnable.length === 0) return renders;
  const driver = join(workDir, "render-driver.cjs");
  const jobsFile = join(workDir, "jobs.json");
  const resultFile = join(workDir, "results.json");
  writeFileSync(driver, DRIVER);
  writeFileSync(jobsFile, JSON.stringify(runnable));
  const r = run(process.execPath, [tsxCli(), driver, jobsFile, resultFile], workDir);
  const results = existsSync(resultFile)
    ? (JSON.parse(readFileSync(resultFile, "utf8")) as Record<string, JobResult>)
    : {};
  jobs.forEach((job, i) => {
    if (!runnable.includes(job)) return;
    const { trees, notes } = renders[i];
    const result = results[String(runnable.indexOf(job))];
    if (!result) {
      notes.push(
        `${job.label}: the renderer did not run, so its side of the diff is empty: ${firstLines(r.stderr || r.stdout)}`,
      );
    } else if ("loadError" in result) {
      notes.push(
        `${job.label}: bin/render.ts failed to load, so its side of the diff is empty: ${firstLines(result.loadError)}`,
      );
    } else if ("noExport" in result) {
      // An older renderer without the export: run it as `npm start` did, which writes <tree>/out/<stack>.
      for (const stack of job.stacks) {
        const s = run(process.execPath, [tsxCli(), join(job.treeDir, "bin", "render.ts"), stack], job.treeDir);
        if (s.status === 0) trees.set(stack, readTree(join(job.treeDir, "out", stack)));
        else notes.push(`${job.label}: stack ${stack} did not render, so its side is empty: ${firstLines(s.stderr)}`);
      }
    } else {
      for (const stack of job.stacks) {
        const one = result.stacks[stack];
        if (one?.ok) trees.set(stack, readTree(join(job.outRoot, stack)));
        else
          notes.push(`${job.label}: stack ${stack} did not render, so its side is empty: ${one?.error ?? "no result"}`);
      }
    }
  });
  return renders;
}

function git(projectDir: string, args: readonly string[]): string {
  const r = run("git", args, projectDir);
  if (r.status !== 0) throw new DiffUsageError(`git ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Exports the project directory as it is at `ref` (the project may sit in a subdirectory of its repository). */
function exportRef(projectDir: string, ref: string, into: string): void {
  const verify = run("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], projectDir);
  if (verify.status !== 0) {
    throw new DiffUsageError(
      `unknown git ref "${ref}": fetch it first (in CI: actions/checkout with fetch-depth: 0, or git fetch origin <branch>)`,
    );
  }
  mkdirSync(into, { recursive: true });
  const tar = join(into, "..", "ref.tar");
  // Run from the project directory, git archive exports only that directory's subtree, relative to it.
  git(projectDir, ["archive", "--format=tar", "-o", tar, verify.stdout.trim()]);
  const x = run("tar", ["-xf", tar, "-C", into], into);
  if (x.status !== 0) throw new Error(`tar -xf failed: ${x.stderr.trim()}`);
}

/**
 * The rendered-file diff of every stack between `ref` and the working tree of `projectDir`.
 * Throws if the working tree itself does not render (that is the change under review).
 */
export function renderedDiff(projectDir: string, ref: string): RenderedDiff {
  const work = mkdtempSync(join(tmpdir(), "telephony-diff-"));
  try {
    const refDir = join(work, "ref", "tree");
    exportRef(projectDir, ref, refDir);
    // The ref's code runs with the head's dependencies; the ref's imports resolve through this link.
    if (!existsSync(join(refDir, "node_modules")))
      symlinkSync(join(projectDir, "node_modules"), join(refDir, "node_modules"), "dir");

    const headStacks = stacksIn(projectDir);
    const refStacks = stacksIn(refDir);
    const notes: string[] = [];
    for (const s of headStacks)
      if (!refStacks.includes(s)) notes.push(`stack ${s} is new: it has no Pulumi.${s}.yaml at ${ref}.`);
    for (const s of refStacks)
      if (!headStacks.includes(s)) notes.push(`stack ${s} is removed: Pulumi.${s}.yaml exists only at ${ref}.`);

    const [before, after] = renderTrees(
      [
        { label: ref, treeDir: refDir, stacks: refStacks, outRoot: join(work, "ref", "out") },
        { label: "the working tree", treeDir: projectDir, stacks: headStacks, outRoot: join(work, "head", "out") },
      ],
      work,
    );
    // The working tree must render: a config error there is the finding, not a diff.
    if (after.notes.length > 0) throw new Error(after.notes.join("\n"));
    notes.push(...before.notes);

    const stacks = [...new Set([...refStacks, ...headStacks])].sort();
    const patch = stacks.map((s) => diffTrees(s, before.trees.get(s), after.trees.get(s))).join("");
    return { patch, notes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A pull-request comment: the notes and the diff in a fenced block, cut at a line boundary so the
 * whole body stays within `maxChars` (GitHub's limit is 65,536).
 */
export function formatComment(diff: RenderedDiff, ref: string, maxChars = DEFAULT_COMMENT_MAX_CHARS): string {
  const title = `### Rendered files: \`${ref}\` → this change`;
  const notes = diff.notes.map((n) => `- ${n}`).join("\n");
  const head = [title, "", ...(notes ? [notes, ""] : [])].join("\n");
  if (!diff.patch) return `${head}No change to the files any stack pushes to its host.\n`;
  // A fence longer than any backtick run in the diff, so rendered content cannot close it.
  const longestRun = Math.max(0, ...(diff.patch.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  const lines = diff.patch.replace(/\n$/, "").split("\n");
  const tail = (omitted: number) =>
    `\n${fence}\n` +
    (omitted
      ? `\n:warning: Cut here: ${omitted} more diff lines. Run \`npm run diff -- ${ref}\` for the whole diff.\n`
      : "");
  const budget = maxChars - head.length - fence.length - "diff\n".length - tail(lines.length).length;
  let used = 0;
  let kept = 0;
  while (kept < lines.length && used + lines[kept].length + 1 <= budget) used += lines[kept++].length + 1;
  return `${head}${fence}diff\n${lines.slice(0, kept).join("\n")}${tail(lines.length - kept)}`;
}

function main(argv: readonly string[]): number {
  const args = [...argv];
  const comment = args.includes("--comment");
  const maxIdx = args.indexOf("--max-chars");
  const maxChars = maxIdx >= 0 ? Number(args[maxIdx + 1]) : DEFAULT_COMMENT_MAX_CHARS;
  const positional = args.filter((a, i) => !a.startsWith("--") && (maxIdx < 0 || i !== maxIdx + 1));
  if (positional.length !== 1 || !Number.isInteger(maxChars) || maxChars < 1000) {
    process.stderr.write(
      "usage: npm run diff -- <git-ref> [--comment] [--max-chars N]   e.g. npm run diff -- origin/main\n",
    );
    return 2;
  }
  const ref = positional[0];
  const projectDir = resolve(__dirname, "..");
  try {
    const diff = renderedDiff(projectDir, ref);
    if (comment) {
      process.stdout.write(formatComment(diff, ref, maxChars));
    } else {
      for (const note of diff.notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(diff.patch);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return err instanceof DiffUsageError ? 2 : 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
