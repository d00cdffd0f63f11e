/**
 * Bundles the config API into one file per entry point (server.js, healthcheck.js) with esbuild:
 * the image needs no npm install, so it builds where image builds cannot reach a registry.
 * The stack (components/apiImage.ts) bundles it into the image context; `npm run build:api`
 * (bin/apiBundle.ts) writes dist/api/ with the same function. No Pulumi here: a plain build step.
 */
import { buildSync } from "esbuild";
import { join } from "node:path";

export function bundleApi(projectDir: string, outdir: string): void {
  buildSync({
    entryPoints: { server: join(projectDir, "api/main.ts"), healthcheck: join(projectDir, "api/healthcheck.ts") },
    bundle: true,
    platform: "node",
    target: "node24",
    outdir,
    legalComments: "external",
    logLevel: "warning",
  });
}
