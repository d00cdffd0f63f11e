/**
 * Bundles the config API into one file per entry point (server.js, healthcheck.js) with esbuild:
 * the image needs no npm install, so it builds where image builds cannot reach a registry.
 * `npm run build:api` writes dist/api/; the stack (components/apiImage.ts) uses the same function.
 */
import { buildSync } from "esbuild";
import { join, resolve } from "node:path";

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

if (require.main === module) {
  const projectDir = resolve(__dirname, "..");
  bundleApi(projectDir, resolve(projectDir, process.argv[2] ?? "dist/api"));
}
