/**
 * The CI workflow cannot run here, so this checks what would break it on GitHub: YAML syntax,
 * actions that exist at a pinned major version, inputs those actions declare, and the wiring
 * reviewers rely on (previews on pull requests, updates on main behind an environment).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { pinnedPulumiVersion, PROJECT_DIR } from "../support/environment";

const WORKFLOW = join(PROJECT_DIR, ".github", "workflows", "pulumi.yml");

/**
 * The actions the workflow may use, each at its current major version, with the inputs its
 * action.yml declares at that version: vendored in fixtures/action-inputs.json, which names the
 * commit each list was read from.
 */
const KNOWN_ACTIONS = (() => {
  const { _comment, ...actions } = JSON.parse(
    readFileSync(join(__dirname, "fixtures", "action-inputs.json"), "utf8"),
  ) as Record<string, unknown>;
  void _comment;
  return actions as Record<
    string,
    {
      readonly major: string;
      readonly source: string;
      readonly inputs: readonly string[];
      readonly required: readonly string[];
    }
  >;
})();

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly if?: string;
  readonly "runs-on"?: string;
  readonly needs?: string | string[];
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly strategy?: { matrix?: { stack?: string[]; include?: { stack: string; environment?: string }[] } };
  readonly steps: Step[];
}
interface Workflow {
  readonly on: {
    pull_request?: { paths?: string[]; "paths-ignore"?: string[] } | null;
    push?: { branches?: string[]; paths?: string[]; "paths-ignore"?: string[] };
  };
  readonly env?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

function load(): Workflow {
  const doc = parseDocument(readFileSync(WORKFLOW, "utf8"), { uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS() as Workflow;
}

const workflow = load();
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const actionSteps = steps.filter((s): s is Step & { uses: string } => s.uses !== undefined);
const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
const upJobs = Object.entries(workflow.jobs).filter(([name]) => name.startsWith("up-"));
/** `name` is the stack name, with the optional organization prefix. */
const stackNameOf = (job: Job) => {
  const name = pulumiSteps(job)[0]?.with?.["stack-name"];
  return typeof name === "string" ? name : "";
};
const stacksOnDisk = readdirSync(PROJECT_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s)
  .sort();

describe("the CI workflow", () => {
  it("is valid YAML with unique keys", () => {
    expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0);
  });

  it("uses only allowed actions, each pinned to its major version", () => {
    expect(actionSteps.length).toBeGreaterThan(0);
    for (const step of actionSteps) {
      const [name, version] = step.uses.split("@");
      expect(Object.keys(KNOWN_ACTIONS), step.uses).toContain(name);
      expect(version, step.uses).toBe(KNOWN_ACTIONS[name].major);
    }
  });

  it("passes each action only inputs it declares, and the ones it requires", () => {
    for (const step of actionSteps) {
      const known = KNOWN_ACTIONS[step.uses.split("@")[0]];
      for (const key of Object.keys(step.with ?? {})) expect(known.inputs, `${step.uses} with: ${key}`).toContain(key);
      for (const key of known.required)
        expect(Object.keys(step.with ?? {}), `${step.uses} needs ${key}`).toContain(key);
    }
  });

  it("validates against input lists that are the real ones (the vendored fixture names its source commit)", () => {
    for (const [name, known] of Object.entries(KNOWN_ACTIONS)) {
      expect(known.source, name).toMatch(new RegExp(`^https://github\\.com/${name}/blob/[0-9a-f]{40}/action\\.yml$`));
      expect(known.inputs.length, name).toBeGreaterThan(5);
    }
    // No pulumi/actions release declares `omit-stdout`; every release declares pulumi-version.
    expect(KNOWN_ACTIONS["pulumi/actions"].inputs).not.toContain("omit-stdout");
    expect(KNOWN_ACTIONS["pulumi/actions"].inputs).toEqual(
      expect.arrayContaining(["command", "stack-name", "pulumi-version", "policyPacks", "comment-on-summary"]),
    );
  });

  it("installs the Pulumi CLI pinned to the version of @pulumi/pulumi in the lockfile, in every job that runs Pulumi", () => {
    const pinned = pinnedPulumiVersion();
    expect(workflow.env?.PULUMI_VERSION).toBe(pinned);
    for (const [name, job] of Object.entries(workflow.jobs)) {
      for (const step of pulumiSteps(job))
        expect(step.with?.["pulumi-version"], name).toBe("${{ env.PULUMI_VERSION }}");
    }
  });

  it("never interpolates ${{ }} expressions into shell scripts (values go through env)", () => {
    for (const step of steps.filter((s) => s.run)) expect(step.run).not.toContain("${{");
  });

  it("runs on pull requests and on pushes to main", () => {
    expect(workflow.on).toHaveProperty("pull_request");
    expect(workflow.on.push?.branches).toEqual(["main"]);
  });

  it("installs with npm ci on the Node LTS the project needs, and tests before anything touches a stack", () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8"));
    const major = Number(/^>=(\d+)/.exec(pkg.engines.node)![1]);
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const node = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"];
      expect(node, name).toBe(major);
    }
    expect(workflow.jobs.test.steps.map((s) => s.run).filter(Boolean)[0]).toBe("npm ci");
    for (const [name, job] of Object.entries(workflow.jobs))
      if (name !== "test") expect([job.needs ?? []].flat(), name).toContain("test");
  });

  it("runs every suite of npm test, the real ones included, and lets none of them be skipped", () => {
    const test = workflow.jobs.test;
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8"));
    expect(pkg.scripts.test).toBe("tsx test/run.ts");
    const suites = execFileSync(
      process.execPath,
      [join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"), join(PROJECT_DIR, "test", "run.ts"), "--list"],
      { encoding: "utf8" },
    )
      .trim()
      .split("\n")
      .map((l) => l.split("\t")[0]);
    expect(suites).toEqual(["typecheck", "lint", "unit", "container", "acme", "engine", "freeswitch", "e2e", "format"]);
    const npmTest = test.steps.findIndex((s) => /^sudo -E env "PATH=\$PATH" npm test$/.test(s.run ?? ""));
    expect(npmTest, "the npm test step, as root with the runner's PATH").toBeGreaterThan(-1);
    // A missing Pulumi CLI or FreeSWITCH image fails the job instead of skipping a suite.
    expect(test.steps[npmTest].env?.REQUIRE_REAL_SUITES).toBe("1");
    const before = (i: number) => i > -1 && i < npmTest;
    // The engine and end-to-end suites: the pinned CLI.
    expect(before(test.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@")))).toBe(true);
    // The FreeSWITCH and end-to-end suites: the stack's own image, built from SignalWire's packages, into FREESWITCH_IMAGE.
    const fsImage = test.steps.findIndex((s) => s.run === 'npx tsx bin/freeswitchImage.ts >> "$GITHUB_ENV"');
    expect(before(fsImage)).toBe(true);
    expect(test.steps[fsImage].env?.SIGNALWIRE_TOKEN).toBe("${{ secrets.SIGNALWIRE_TOKEN }}");
    // The container, FreeSWITCH and end-to-end suites: the API's base image, pulled by digest.
    expect(workflow.env?.API_BASE_IMAGE).toMatch(/^node:24-[a-z-]+@sha256:[0-9a-f]{64}$/);
    const pull = test.steps.findIndex((s) => s.run === 'docker pull "$BASE_IMAGE"');
    expect(before(pull)).toBe(true);
    expect(test.steps[pull].env?.BASE_IMAGE).toBe("${{ env.API_BASE_IMAGE }}");
    expect(test.steps[npmTest].env?.BASE_IMAGE).toBe("${{ env.API_BASE_IMAGE }}");
    // The end-to-end host: debootstrap (and Debian's keyring, on Ubuntu).
    expect(
      before(test.steps.findIndex((s) => /apt-get install .*debootstrap debian-archive-keyring/.test(s.run ?? ""))),
    ).toBe(true);
  });

  it("writes FREESWITCH_IMAGE= as the image build's only output line, which $GITHUB_ENV takes", () => {
    const out = execFileSync(
      process.execPath,
      [
        join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"),
        join(PROJECT_DIR, "bin", "freeswitchImage.ts"),
        "--name",
      ],
      { encoding: "utf8" },
    );
    expect(out).toMatch(/^telephony\/freeswitch:[0-9a-f]{16}\n$/);
    expect(readFileSync(join(PROJECT_DIR, "bin", "freeswitchImage.ts"), "utf8")).toContain(
      "console.log(`FREESWITCH_IMAGE=${image}`)",
    );
  });

  it("previews every stack on pull requests with the policy pack, posting one comment per stack, also when the preview fails", () => {
    const preview = workflow.jobs.preview;
    expect(preview.if).toContain("github.event_name == 'pull_request'");
    expect([...(preview.strategy?.matrix?.stack ?? [])].sort()).toEqual(stacksOnDisk);
    // pulumi/actions only installs the CLI here (no command): it posts no comment when a preview fails.
    expect(pulumiSteps(preview)[0].with?.command).toBeUndefined();
    const run = preview.steps.find((s) => s.run?.includes("bin/previewComment.ts"))!;
    expect(run.run).toBe('npx tsx bin/previewComment.ts "$STACK" preview-comment.md');
    expect(run.env?.STACK).toContain("matrix.stack");
    const comment = preview.steps.find((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"))!;
    expect(comment.with).toMatchObject({ header: "pulumi-preview-${{ matrix.stack }}", path: "preview-comment.md" });
    // After a failed preview step the next steps are skipped unless they say always().
    expect((comment as { if?: string }).if).toMatch(/^always\(\) && /);
    expect((comment as { if?: string }).if).toContain("steps.preview.outcome == 'failure'");
    expect(preview.steps.indexOf(comment)).toBeGreaterThan(preview.steps.indexOf(run));
    expect((run as { id?: string }).id).toBe("preview");
    expect(preview.permissions).toMatchObject({ "pull-requests": "write" });
  });

  it("posts the rendered-file diff against the base branch as a sticky comment, cut under the size limit", () => {
    const job = workflow.jobs["rendered-diff"];
    expect(job.if).toContain("github.event_name == 'pull_request'");
    expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.["fetch-depth"]).toBe(0);
    const render = job.steps.find((s) => s.run?.includes("npm run --silent diff"));
    expect(render?.run).toMatch(/diff -- "origin\/\$BASE_REF" --comment --max-chars (\d+) > rendered-diff\.md/);
    expect(Number(/--max-chars (\d+)/.exec(render!.run!)![1])).toBeLessThan(65_536);
    expect(render?.env?.BASE_REF).toBe("${{ github.base_ref }}");
    const comment = job.steps.find((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
    expect(comment?.with).toMatchObject({ header: "rendered-files", path: "rendered-diff.md" });
  });

  it("runs pulumi up for every stack only on main, each behind a GitHub environment, prod behind production", () => {
    expect(upJobs.map(([name]) => name.slice("up-".length)).sort()).toEqual(stacksOnDisk);
    for (const [name, job] of upJobs) {
      const stack = name.slice("up-".length);
      expect(job.if, name).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
      expect(job.environment, name).toBe(stack === "prod" ? "production" : stack);
      expect(pulumiSteps(job)[0].with, name).toMatchObject({ command: "up", policyPacks: "policy" });
      expect(stackNameOf(job), name).toBe(
        `\${{ vars.PULUMI_ORG && format('{0}/${stack}', vars.PULUMI_ORG) || '${stack}' }}`,
      );
    }
  });

  it("lets prod's update start only after staging's succeeded", () => {
    // `needs` waits for success: a failed or skipped staging skips prod (the if has no always()).
    expect([workflow.jobs["up-prod"].needs].flat()).toContain("up-staging");
    expect(workflow.jobs["up-prod"].if).not.toMatch(/always\(\)|failure\(\)|cancelled\(\)/);
  });

  it("runs the updates on the runner named by the repository variable PULUMI_UP_RUNNER, and stops first with an error saying so when it is unset", () => {
    for (const [name, job] of upJobs) {
      expect(job["runs-on"], name).toBe("${{ vars.PULUMI_UP_RUNNER || 'ubuntu-latest' }}");
      const [guard] = job.steps;
      expect((guard as { if?: string }).if, name).toBe("vars.PULUMI_UP_RUNNER == ''");
      expect(guard.run, name).toMatch(/::error::Set the repository variable PULUMI_UP_RUNNER .*adminSshRanges/);
      expect(guard.run, name).toMatch(/exit 1\s*$/);
    }
    const header = readFileSync(WORKFLOW, "utf8");
    expect(header).toMatch(/# Runner for `pulumi up` \(repository variable PULUMI_UP_RUNNER/);
  });

  it("deploys nothing for a commit that changes only documentation", () => {
    const ignored = workflow.on.push?.["paths-ignore"] ?? [];
    const matches = (path: string) =>
      ignored.some((pattern) => (pattern === "**.md" ? path.endsWith(".md") : pattern === path));
    for (const docs of ["README.md", "api/README.md", "LICENSE"]) expect(matches(docs), docs).toBe(true);
    for (const code of ["index.ts", "Pulumi.prod.yaml", "sip/schema.ts", "files/api/Dockerfile", "package-lock.json"])
      expect(matches(code), code).toBe(false);
    expect(
      ignored.every((p) => p === "**.md" || p === "LICENSE"),
      "only patterns this test understands",
    ).toBe(true);
  });

  it("says how the stacks come to exist, and never creates one itself", () => {
    expect(readFileSync(WORKFLOW, "utf8")).toContain("`pulumi stack init\n# <org>/<stack>`");
    for (const job of Object.values(workflow.jobs))
      for (const step of pulumiSteps(job)) expect(step.with?.upsert).toBeUndefined();
  });

  it("gives Pulumi its access token from repository secrets, only on the steps that run Pulumi", () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of pulumiSteps(job).filter((s) => s.with?.command))
        expect(step.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    }
    expect(workflow.env?.PULUMI_ACCESS_TOKEN).toBeUndefined();
    for (const step of workflow.jobs.preview.steps.filter((s) => s.run?.includes("previewComment")))
      expect(step.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const withToken = job.steps.filter((s) => s.env?.PULUMI_ACCESS_TOKEN).length;
      expect(withToken, name).toBe(name === "preview" ? 1 : name.startsWith("up-") ? 1 : 0);
    }
  });
});
