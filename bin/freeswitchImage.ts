/**
 * Builds the stack's default FreeSWITCH image here, exactly as a deploy builds it on the host (the
 * same Dockerfile and build command, sip/freeswitchImage.ts and sip/deploy.ts): from SignalWire's
 * Debian packages, with the token as a BuildKit secret. For running the real suites against it
 * (FREESWITCH_IMAGE) where SignalWire and Docker Hub are reachable, e.g. the GitHub workflow.
 *
 *   SIGNALWIRE_TOKEN=<token> npx tsx bin/freeswitchImage.ts      builds it unless present; prints FREESWITCH_IMAGE=<name>
 *   npx tsx bin/freeswitchImage.ts --name                         prints the name only
 *
 * Needs a Docker engine with BuildKit (Docker 20.10 or newer).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeswitchImageBuildCommand } from "../sip/deploy";
import { freeswitchImageName, renderFreeswitchDockerfile } from "../sip/freeswitchImage";

function main(args: readonly string[]): number {
  const dockerfile = renderFreeswitchDockerfile();
  const image = freeswitchImageName(dockerfile);
  if (args[0] === "--name") {
    console.log(image);
    return 0;
  }
  if (args.length) {
    console.error("usage: SIGNALWIRE_TOKEN=<token> npx tsx bin/freeswitchImage.ts [--name]");
    return 2;
  }
  const token = process.env.SIGNALWIRE_TOKEN ?? "";
  const present = spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status === 0;
  if (!present && !token) {
    console.error(
      "SIGNALWIRE_TOKEN is not set: FreeSWITCH's packages are served only with a SignalWire personal access token",
    );
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), "freeswitch-image-"));
  try {
    const build = spawnSync("bash", ["-c", freeswitchImageBuildCommand(image, dockerfile, join(dir, "build.log"))], {
      input: token,
      stdio: ["pipe", 2, 2],
    });
    if (build.status !== 0) return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`FREESWITCH_IMAGE=${image}`);
  return 0;
}

process.exit(main(process.argv.slice(2)));
