/**
 * `tsx bin/previewComment.ts <stack> <comment.md>` (the PR workflow's preview step): runs
 * `pulumi preview` for one stack with the diff and the policy pack, streams its output to the log
 * as it runs, and writes a pull-request comment with the outcome and that output. A failed preview
 * (a configuration error, a policy violation, a stack that does not exist) thereby shows its reason
 * on the pull request instead of only in the job's log. Exits with pulumi's status, so the job
 * still fails.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

/** GitHub refuses comments over 65,536 characters; stay well under with the heading and fences. */
export const PREVIEW_COMMENT_MAX_CHARS = 60_000;

export function previewArgs(stack: string): string[] {
  return ["preview", "--stack", stack, "--diff", "--policy-pack", "policy", "--non-interactive", "--color", "never"];
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * The comment: a heading the workflow's sticky comment is recognised by, the outcome, and the
 * output. When too long, the middle goes: a preview's summary and a failure's reason are at the end.
 */
export function formatPreviewComment(
  stack: string,
  status: number | null,
  output: string,
  maxChars = PREVIEW_COMMENT_MAX_CHARS,
): string {
  const outcome =
    status === 0
      ? "succeeded"
      : status === null
        ? "was killed"
        : `**failed** (exit ${status}): the reason is at the end of the output`;
  const heading = `### \`pulumi preview\` of stack \`${stack}\` ${outcome}\n\n`;
  let text = output.replace(ANSI, "").replace(/\r/g, "").trimEnd();
  const longestTicks = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longestTicks + 1);
  const budget = maxChars - heading.length - 2 * fence.length - 200;
  if (text.length > budget) {
    const headChars = Math.floor(budget / 3);
    const tailChars = budget - headChars;
    text = `${text.slice(0, headChars)}\n… ${text.length - budget} characters cut; the job's log has everything …\n${text.slice(-tailChars)}`;
  }
  return `${heading}${fence}\n${text || "(no output)"}\n${fence}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [stack, out] = argv;
  if (!stack || !out || argv.length !== 2) {
    process.stderr.write("usage: tsx bin/previewComment.ts <stack> <comment.md>\n");
    return 2;
  }
  const chunks: string[] = [];
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn("pulumi", previewArgs(stack), { stdio: ["ignore", "pipe", "pipe"] });
    const collect = (stream: NodeJS.WriteStream) => (data: Buffer) => {
      chunks.push(data.toString("utf8"));
      stream.write(data);
    };
    child.stdout.on("data", collect(process.stdout));
    child.stderr.on("data", collect(process.stderr));
    child.on("error", (error) => {
      chunks.push(`cannot run pulumi: ${error.message} (is the Pulumi CLI installed and on PATH?)\n`);
      resolve(127);
    });
    child.on("close", (code) => resolve(code));
  });
  writeFileSync(out, formatPreviewComment(stack, status, chunks.join("")));
  return status ?? 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Not pulumi's failure (that is a status above) but this script's, e.g. an unwritable comment file.
      console.error(`previewComment: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
