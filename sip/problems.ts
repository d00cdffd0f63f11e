/** Configuration problems: each names the config key and says how to fix it. */

export const CONFIG_NAMESPACE = "telephony";

export interface Problem {
  /** Dotted path below the namespace, e.g. "trunks.oneandone.realm". */
  readonly key: string;
  readonly message: string;
  readonly fix: string;
}

/** A config path as users write it: `numbers[0].number`, `trunks.oneandone.realm`. */
export function formatKey(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (key, part) => (typeof part === "number" ? `${key}[${part}]` : key ? `${key}.${String(part)}` : String(part)),
    "",
  );
}

export function problem(key: string, message: string, fix: string): Problem {
  return { key, message, fix };
}

export function formatProblem(p: Problem): string {
  return `${CONFIG_NAMESPACE}:${p.key}: ${p.message}\n    fix: ${p.fix}`;
}

/** Thrown before any resource is registered; carries every problem found, not just the first. */
export class StackConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: readonly Problem[],
  ) {
    super(
      `stack "${stack}" has ${problems.length} configuration problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}
