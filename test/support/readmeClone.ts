/**
 * The "Cloning an environment" commands of docs/operations.md, run as written against stack files: a small
 * interpreter for the three commands the block uses (`pulumi stack init --copy-config-from`,
 * `pulumi config set [--path]`, `npm start`), so the unit suite checks that the documented steps
 * produce a clone that is safe and renders. Values are set as strings, as `pulumi config set`
 * does without --type.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { PROJECT_DIR } from "./environment";

export const OPERATIONS_DOC = join(PROJECT_DIR, "docs", "operations.md");

/** The commands of the first ```sh block under "## Cloning an environment". */
export function readmeCloneCommands(readme = readFileSync(OPERATIONS_DOC, "utf8")): string[] {
  const section = readme.slice(readme.indexOf("## Cloning an environment"));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("docs/operations.md has no ```sh block under Cloning an environment");
  return block[1]
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** Splits a command line into words; single quotes group, as in a POSIX shell. */
export function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** "host.hostnameOwnedBy[0]" → ["host", "hostnameOwnedBy", 0] */
function pathOf(text: string): (string | number)[] {
  return [...text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

export interface CloneRun {
  /** Stack files by stack name, as YAML text, after the commands ran. */
  readonly files: Map<string, string>;
  /** Stacks `npm start -- <stack>` was run for, in order. */
  readonly rendered: string[];
}

/** Runs `commands` over `files` (stack → Pulumi.<stack>.yaml text). */
export function runCloneCommands(commands: readonly string[], files: ReadonlyMap<string, string>): CloneRun {
  const out = new Map(files);
  const rendered: string[] = [];
  let current: string | undefined;
  for (const line of commands) {
    const w = words(line);
    if (w[0] === "pulumi" && w[1] === "stack" && w[2] === "init") {
      const from = w[w.indexOf("--copy-config-from") + 1];
      const source = out.get(from);
      if (!source) throw new Error(`${line}: no stack ${from}`);
      current = w[3];
      out.set(current, stringify({ config: parse(source).config }));
    } else if (w[0] === "pulumi" && w[1] === "config" && w[2] === "set") {
      if (!current) throw new Error(`${line}: no stack selected`);
      const args = w.slice(3);
      const usePath = args[0] === "--path";
      const [key, value] = usePath ? args.slice(1) : args;
      const doc = parse(out.get(current)!);
      if (!usePath) doc.config[key] = value;
      else {
        const [namespace, ...rest] = key.split(":");
        const [top, ...path] = pathOf(rest.join(":"));
        const topKey = `${namespace}:${top}`;
        let node = (doc.config[topKey] ??= {});
        for (const [i, part] of path.entries()) {
          if (i === path.length - 1) node[part] = value;
          else node = node[part] ??= typeof path[i + 1] === "number" ? [] : {};
        }
        if (path.length === 0) doc.config[topKey] = value;
      }
      out.set(current, stringify(doc));
    } else if (w[0] === "npm" && w[1] === "start") {
      rendered.push(w[3] ?? "prod");
    } else {
      throw new Error(`the README's clone steps use a command this interpreter does not know: ${line}`);
    }
  }
  return { files: out, rendered };
}
