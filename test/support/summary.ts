/** The summary `npm test` ends with: each suite's outcome, then one line counting the tests. */

export interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface SuiteResult {
  readonly name: string;
  readonly what: string;
  readonly status: "passed" | "failed" | "skipped" | "not run";
  /** Why it was skipped, failed or not run. */
  readonly detail?: string;
  readonly counts?: TestCounts;
  readonly seconds?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function formatSummary(results: readonly SuiteResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = ["npm test summary:"];
  for (const r of results) {
    const outcome =
      r.status === "skipped"
        ? "SKIPPED"
        : r.status === "failed"
          ? "FAILED"
          : r.status === "not run"
            ? "not run"
            : "passed";
    const counts = r.counts
      ? `${plural(r.counts.passed, "test")} passed${r.counts.failed ? `, ${r.counts.failed} failed` : ""}${r.counts.skipped ? `, ${r.counts.skipped} skipped` : ""}`
      : "";
    const time = r.seconds === undefined ? "" : `${Math.round(r.seconds)} s`;
    const rest = r.status === "passed" ? [counts || r.what, time] : [r.detail ?? "", counts, time];
    lines.push(`  ${r.name.padEnd(width)}  ${outcome.padEnd(7)}  ${rest.filter(Boolean).join(", ")}`);
  }
  const skipped = results.filter((r) => r.status === "skipped").map((r) => r.name);
  if (skipped.length) lines.push(`  Not claimed by this run (skipped, nothing of theirs ran): ${skipped.join(", ")}.`);
  const total = results.reduce(
    (sum, r) => ({
      passed: sum.passed + (r.counts?.passed ?? 0),
      failed: sum.failed + (r.counts?.failed ?? 0),
      skipped: sum.skipped + (r.counts?.skipped ?? 0),
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  // A suite that failed before its tests reported (a setup step, a missing image) counts as one failure.
  const failedUncounted = results.filter((r) => r.status === "failed" && !r.counts?.failed).length;
  lines.push(
    `tests: ${total.passed} passed, ${total.failed + failedUncounted} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`,
  );
  return lines.join("\n");
}
