/**
 * The CI workflow cannot run here, so this checks what would break it on GitHub: YAML syntax,
 * actions that exist at a pinned major version, inputs those actions declare, and the wiring
 * reviewers rely on (previews on pull requests, updates on main behind an environment).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..", "..");
const WORKFLOW = join(root, ".github", "workflows", "pulumi.yml");

/**
 * Inputs each allowed action declares, copied from its action.yml (or, for pulumi/actions, its
 * README's input list and src/config.ts) at the pinned major version.
 */
const KNOWN_ACTIONS: Record<string, { readonly version: string; readonly inputs: readonly string[]; readonly required?: readonly string[] }> = {
  "actions/checkout": {
    version: "v4",
    inputs: [
      "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user", "persist-credentials", "path", "clean", "filter",
      "sparse-checkout", "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs", "submodules", "set-safe-directory", "github-server-url",
    ],
  },
  "actions/setup-node": {
    version: "v4",
    inputs: ["always-auth", "node-version", "node-version-file", "architecture", "check-latest", "registry-url", "scope", "token", "cache", "cache-dependency-path", "mirror", "mirror-token"],
  },
  "pulumi/actions": {
    version: "v6",
    inputs: [
      "command", "stack-name", "work-dir", "cloud-url", "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token", "refresh", "secrets-provider",
      "color", "log-verbosity", "log-flow", "debug", "config-map", "diff", "edit-pr-comment", "expect-no-changes", "message", "parallel", "policyPacks",
      "policyPackConfigs", "pulumi-version", "pulumi-version-file", "remove", "replace", "target", "target-dependents", "upsert", "exclude-protected",
      "suppress-outputs", "suppress-progress", "omit-stdout", "plan", "always-include-summary", "continue-on-error",
    ],
    required: ["command", "stack-name"],
  },
  "marocchino/sticky-pull-request-comment": {
    version: "v2",
    inputs: [
      "header", "append", "recreate", "delete", "only_create", "only_update", "hide_details", "hide", "hide_and_recreate", "hide_classify", "message", "path",
      "ignore_empty", "skip_unchanged", "follow_symbolic_links", "number", "owner", "repo", "GITHUB_TOKEN",
    ],
  },
};

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly if?: string;
  readonly needs?: string | string[];
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly strategy?: { matrix?: { stack?: string[]; include?: { stack: string; environment?: string }[] } };
  readonly steps: Step[];
}
interface Workflow {
  readonly on: { pull_request?: unknown; push?: { branches?: string[] } };
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
const stacksOnDisk = readdirSync(root)
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
      expect(version, step.uses).toBe(KNOWN_ACTIONS[name].version);
    }
  });

  it("passes each action only inputs it declares, and the ones it requires", () => {
    for (const step of actionSteps) {
      const known = KNOWN_ACTIONS[step.uses.split("@")[0]];
      for (const key of Object.keys(step.with ?? {})) expect(known.inputs, `${step.uses} with: ${key}`).toContain(key);
      for (const key of known.required ?? []) expect(Object.keys(step.with ?? {}), `${step.uses} needs ${key}`).toContain(key);
    }
  });

  it("never interpolates ${{ }} expressions into shell scripts (values go through env)", () => {
    for (const step of steps.filter((s) => s.run)) expect(step.run).not.toContain("${{");
  });

  it("runs on pull requests and on pushes to main", () => {
    expect(workflow.on).toHaveProperty("pull_request");
    expect(workflow.on.push?.branches).toEqual(["main"]);
  });

  it("installs with npm ci and runs the typecheck, unit and container tests on Node 20 before anything touches a stack", () => {
    const test = workflow.jobs.test;
    expect(test.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(20);
    const runs = test.steps.map((s) => s.run).filter(Boolean);
    expect(runs[0]).toBe("npm ci");
    expect(runs).toEqual(expect.arrayContaining(["npm run typecheck", "npm run test:unit", "npm run test:container"]));
    // The same scripts `npm test` chains (package.json), minus the local Docker setup.
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    for (const script of ["typecheck", "test:unit", "test:container"]) expect(pkg.scripts.test).toContain(`npm run ${script}`);
    for (const [name, job] of Object.entries(workflow.jobs)) if (name !== "test") expect(job.needs, name).toBe("test");
  });

  it("previews every stack on pull requests with the policy pack, as one comment per stack edited in place", () => {
    const preview = workflow.jobs.preview;
    expect(preview.if).toContain("github.event_name == 'pull_request'");
    expect([...(preview.strategy?.matrix?.stack ?? [])].sort()).toEqual(stacksOnDisk);
    const [step] = pulumiSteps(preview);
    expect(step.with).toMatchObject({ command: "preview", diff: true, "comment-on-pr": true, "edit-pr-comment": true, policyPacks: "policy" });
    expect(String(step.with?.["stack-name"])).toContain("matrix.stack");
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
    const up = workflow.jobs.up;
    expect(up.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    const include = up.strategy?.matrix?.include ?? [];
    expect(include.map((i) => i.stack).sort()).toEqual(stacksOnDisk);
    expect(include.find((i) => i.stack === "prod")?.environment).toBe("production");
    expect(up.environment).toBe("${{ matrix.environment }}");
    expect(pulumiSteps(up)[0].with).toMatchObject({ command: "up", policyPacks: "policy" });
  });

  it("gives Pulumi its access token from repository secrets, only on the steps that run Pulumi", () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of pulumiSteps(job)) expect(step.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    }
    expect(workflow.env?.PULUMI_ACCESS_TOKEN).toBeUndefined();
    expect(pulumiSteps(workflow.jobs.preview).length + pulumiSteps(workflow.jobs.up).length).toBe(2);
  });
});
