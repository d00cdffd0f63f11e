/**
 * `npm test`: every suite in order, and a summary of what ran and what was skipped.
 *
 *   tsx test/run.ts                 all suites (npm test)
 *   tsx test/run.ts engine e2e      only these (npm run test:engine, test:e2e, ...)
 *   tsx test/run.ts --list          the suites, in order
 *
 * The real suites drive real things taken from the environment (test/support/environment.ts):
 * where one is missing, the suite prints one line naming it and how to provide it, and is
 * skipped, so a green run never claims a suite that did not run. REQUIRE_REAL_SUITES=1 (the
 * project's GitHub workflow sets it) turns each such skip into a failure. The first failing suite
 * stops the run; the summary lists the rest as not run. The last line counts the tests.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  debianPackages,
  freeswitchImage,
  isFound,
  pulumiEngine,
  PROJECT_DIR,
  rootOnLinux,
  type Lookup,
} from "./support/environment";
import { formatSummary, type SuiteResult, type TestCounts } from "./support/summary";

class SuiteFailed extends Error {}

interface Suite {
  readonly name: string;
  /** What it checks, for the summary's reader. */
  readonly what: string;
  /** The real things it needs from the environment. */
  readonly needs: () => Lookup<unknown>[];
  /** Runs the suite; throws SuiteFailed when it fails. */
  readonly run: () => TestCounts | undefined;
}

const scratch = mkdtempSync(join(tmpdir(), "telephony-test-run-"));

function sh(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { cwd: PROJECT_DIR, stdio: "inherit", encoding: "utf8", ...options });
  if (result.status !== 0)
    throw new SuiteFailed(`${[command, ...args].join(" ")} exited ${result.status ?? result.signal}`);
  return typeof result.stdout === "string" ? result.stdout : "";
}

/** Runs vitest with a JSON report beside the usual one and reads the counts from it. */
function vitest(config?: string): TestCounts {
  const report = join(scratch, `vitest-${Date.now()}.json`);
  const args = [
    "vitest",
    "run",
    ...(config ? ["--config", config] : []),
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
  ];
  const result = spawnSync("npx", ["--no-install", ...args], { cwd: PROJECT_DIR, stdio: "inherit" });
  let counts: TestCounts | undefined;
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
    };
    counts = {
      passed: json.numPassedTests,
      failed: json.numFailedTests,
      skipped: json.numPendingTests + json.numTodoTests,
    };
  } catch {
    counts = undefined;
  }
  if (result.status !== 0) throw new SuiteFailed(`vitest exited ${result.status ?? result.signal}`, { cause: counts });
  if (!counts) throw new SuiteFailed("vitest wrote no report");
  return counts;
}

/** The Docker engine and the API's base image (.ci/docker-setup.sh); cold, this builds the image. */
const dockerSetup = () => sh("bash", [".ci/docker-setup.sh"], { stdio: ["ignore", "pipe", "inherit"] });

/** FREESWITCH_IMAGE was set, so a missing image is an error, not a skip. */
function freeswitchImagePresent(): void {
  const lookup = freeswitchImage();
  if (!isFound(lookup)) return;
  const inspect = spawnSync("docker", ["image", "inspect", lookup.found], { stdio: "ignore" });
  if (inspect.status !== 0)
    throw new SuiteFailed(
      `FREESWITCH_IMAGE=${lookup.found} is not in the local Docker store: pull it (by digest) or load it first`,
    );
}

/** What the ACME suite and the real-FreeSWITCH suite's certificate test drive (.ci/acme-setup.sh). */
const ACME_PACKAGES = ["pebble", "lego"] as const;

const SUITES: readonly Suite[] = [
  {
    name: "typecheck",
    what: "tsc over the program, tests and benchmarks",
    needs: () => [],
    run: () => (sh("npm", ["run", "--silent", "typecheck"]), undefined),
  },
  {
    name: "lint",
    what: "ESLint with type information: floating and misused promises, unsafe any, unused code",
    needs: () => [],
    run: () => (sh("npm", ["run", "--silent", "lint"]), undefined),
  },
  {
    name: "unit",
    what: "SIP core, components on Pulumi's mocks, config API on loopback, policies, CI",
    needs: () => [],
    run: () => vitest(),
  },
  {
    name: "container",
    what: "the config API's image built and run in Docker; the FreeSWITCH image's build against a stand-in repository",
    needs: () => [],
    run: () => {
      dockerSetup();
      // The Debian 12 image the FreeSWITCH image's Dockerfile is built FROM in the test (no registry).
      sh("bash", [".ci/bookworm-image.sh"], { stdio: ["ignore", "pipe", "inherit"] });
      sh("npm", ["run", "--silent", "build:api"]);
      return vitest("test/container/vitest.config.mts");
    },
  },
  {
    name: "acme",
    what: "the rendered certificate renewal with Debian's lego against Debian's Pebble ACME server",
    needs: () => [rootOnLinux(), debianPackages(ACME_PACKAGES)],
    run: () => {
      sh("bash", [".ci/acme-setup.sh"]);
      return vitest("test/acme/vitest.config.mts");
    },
  },
  {
    name: "engine",
    what: "pulumi preview of every stack on a real engine, with the policy pack",
    needs: () => [pulumiEngine()],
    run: () => vitest("test/engine/vitest.config.mts"),
  },
  {
    name: "freeswitch",
    what: "the rendered tree on a real FreeSWITCH, SIP peers in network namespaces",
    needs: () => [freeswitchImage(), rootOnLinux()],
    run: () => {
      dockerSetup();
      freeswitchImagePresent();
      sh("bash", [".ci/freeswitch-setup.sh"]);
      // Its certificate test drives the renewal job against Pebble; without the packages it says so and is skipped.
      if (isFound(debianPackages(ACME_PACKAGES))) sh("bash", [".ci/acme-setup.sh"]);
      return vitest("test/freeswitch/vitest.config.mts");
    },
  },
  {
    name: "e2e",
    what: "a real pulumi up onto a disposable Debian 12 host, and onto a standby pair of them (takeovers)",
    needs: () => [pulumiEngine(), freeswitchImage(), rootOnLinux()],
    run: () => {
      dockerSetup();
      freeswitchImagePresent();
      sh("bash", [".ci/e2e-setup.sh"]);
      return vitest("test/e2e/vitest.config.mts");
    },
  },
  // Last: a layout slip is fixed by `npm run format` and should not hide what the tests found.
  {
    name: "format",
    what: "Prettier's layout of the code",
    needs: () => [],
    run: () => (sh("npm", ["run", "--silent", "format:check"]), undefined),
  },
];

function main(argv: readonly string[]): number {
  if (argv[0] === "--list") {
    for (const suite of SUITES) console.log(`${suite.name}\t${suite.what}`);
    return 0;
  }
  const unknown = argv.filter((name) => !SUITES.some((s) => s.name === name));
  if (unknown.length) {
    console.error(`unknown suite(s): ${unknown.join(", ")}; the suites are: ${SUITES.map((s) => s.name).join(", ")}`);
    return 2;
  }
  const chosen = argv.length ? SUITES.filter((s) => argv.includes(s.name)) : SUITES;
  const requireReal = process.env.REQUIRE_REAL_SUITES === "1";
  const results: SuiteResult[] = [];
  let failed = false;
  for (const suite of chosen) {
    if (failed) {
      results.push({ name: suite.name, what: suite.what, status: "not run", detail: "an earlier suite failed" });
      continue;
    }
    const missing = suite.needs().flatMap((lookup) => (isFound(lookup) ? [] : [lookup.missing]));
    if (missing.length) {
      const line = `${suite.name}: ${missing.join("; ")}`;
      if (requireReal) {
        console.error(`\n[test] FAILED ${line} (REQUIRE_REAL_SUITES=1)`);
        results.push({ name: suite.name, what: suite.what, status: "failed", detail: missing.join("; ") });
        failed = true;
      } else {
        console.log(`\n[test] skipped ${line}`);
        results.push({ name: suite.name, what: suite.what, status: "skipped", detail: missing.join("; ") });
      }
      continue;
    }
    console.log(`\n[test] ${suite.name}: ${suite.what}`);
    const started = Date.now();
    try {
      const counts = suite.run();
      results.push({
        name: suite.name,
        what: suite.what,
        status: "passed",
        counts,
        seconds: (Date.now() - started) / 1000,
      });
    } catch (error) {
      if (!(error instanceof SuiteFailed)) throw error;
      const counts = error.cause as TestCounts | undefined;
      results.push({
        name: suite.name,
        what: suite.what,
        status: "failed",
        detail: error.message,
        counts,
        seconds: (Date.now() - started) / 1000,
      });
      failed = true;
    }
  }
  console.log(`\n${formatSummary(results)}`);
  return failed ? 1 : 0;
}

let code: number;
try {
  code = main(process.argv.slice(2));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(code);
