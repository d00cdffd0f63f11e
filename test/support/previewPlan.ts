/**
 * Reading what a real `pulumi preview --diff` printed: the planned step of every resource, the
 * warnings and errors, and the secret values a stack holds (for searching outputs and state).
 */
import { readFileSync } from "node:fs";

export interface PlannedStep {
  /** create, same, update, replace, delete, ... as the preview prints it. */
  readonly op: string;
  readonly urn: string;
  /** The resource type (the last one in the URN's parent chain). */
  readonly type: string;
  readonly name: string;
}

/**
 * Every `[urn=...]` line of a `--diff` preview with the step printed above it
 * (`+ hcloud:index/server:Server: (create)`, then `[id=...]` for an existing resource).
 */
export function plannedSteps(output: string): PlannedStep[] {
  const lines = output.split("\n");
  const steps: PlannedStep[] = [];
  lines.forEach((line, i) => {
    const urn = /^\s*\[urn=(urn:pulumi:[^\]]+)\]\s*$/.exec(line)?.[1];
    if (!urn) return;
    const header = /^\s*\[id=/.test(lines[i - 1] ?? "") ? lines[i - 2] : lines[i - 1];
    const op = /: \((\w[\w-]*)\)/.exec(header ?? "")?.[1];
    if (!op) throw new Error(`no step line above ${line.trim()}`);
    // urn:pulumi:<stack>::<project>::<parent type>$...$<type>::<name>
    const [, , typeChain, ...name] = urn.split("::");
    steps.push({ op, urn, type: typeChain.split("$").pop()!, name: name.join("::") });
  });
  return steps;
}

/** The plan as a golden file holds it: "<op> <urn without the stack's prefix>", sorted. */
export function planLines(steps: readonly PlannedStep[]): string[] {
  return steps.map((s) => `${s.op} ${s.urn.split("::").slice(2).join("::")}`).sort();
}

export function readGolden(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
}

/**
 * Warnings the engine prints that are not caused by the project: an engine built by hand may carry
 * plugins older than the SDKs request (only where a provider's source at the wanted release
 * could not be had), and Pulumi says when it uses a plugin found on PATH.
 */
export const EXPECTED_ENGINE_WARNINGS: readonly RegExp[] = [
  /^warning: resource plugin (hcloud|tls|random|command) is expected to have version >=[\d.]+, but has [\d.]+; the wrong version may be on your path, or this may be a bug in the plugin$/,
  /^warning: using pulumi-(resource-[a-z]+|resource-pulumi-nodejs|language-nodejs) from \$PATH at \S+$/,
];

/**
 * Every warning or error the output reports, except the engine's expected ones. An update prints
 * them after the resource's progress (`pulumi:pulumi:Stack telephony-prod  warning: ...`).
 */
export function unexpectedDiagnostics(output: string): string[] {
  return output
    .split("\n")
    .map((line) => /\b(?:warning|error):.*$/i.exec(line)?.[0].trim())
    .filter((d): d is string => d !== undefined)
    .filter((d) => !EXPECTED_ENGINE_WARNINGS.some((re) => re.test(d)));
}

/** Pulumi's marker of a secret value in an exported deployment. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * The plaintext of every secret in a `pulumi stack export --show-secrets` document, as the strings
 * one would search for: each string leaf, and each line of a multi-line one (a PEM key is stored
 * with escaped newlines). Short leaves (user names, ports) are not secrets in themselves.
 */
export function secretStrings(exported: unknown, minLength = 12): Set<string> {
  const found = new Set<string>();
  const addLeaves = (value: unknown) => {
    if (typeof value === "string") {
      for (const piece of [value, ...value.split("\n")]) if (piece.trim().length >= minLength) found.add(piece.trim());
    } else if (Array.isArray(value)) value.forEach(addLeaves);
    else if (value && typeof value === "object") Object.values(value).forEach(addLeaves);
  };
  const walk = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== "object") return;
    const record = value as Record<string, unknown>;
    if (record[SECRET_SIG_KEY] === SECRET_SIG) {
      const plaintext = record.plaintext;
      if (typeof plaintext === "string") {
        try {
          addLeaves(JSON.parse(plaintext));
        } catch {
          addLeaves(plaintext);
        }
      }
      return;
    }
    Object.values(record).forEach(walk);
  };
  walk(exported);
  return found;
}
