/**
 * The config API's image context: the service bundled into one file (components/apiBundle.ts, as
 * `npm run build:api` does) beside its Dockerfile, in dist/api-image/. The image is built on the
 * host from it; the tag is the context's hash, so only a change to the service makes a new image.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleApi } from "./apiBundle";
import { sha256 } from "../sip/deploy";

export interface ApiImageContext {
  readonly dir: string;
  readonly tag: string;
}

const built = new Map<string, ApiImageContext>();

export function buildApiImageContext(projectDir: string): ApiImageContext {
  const cached = built.get(projectDir);
  if (cached) return cached;
  const dir = join(projectDir, "dist", "api-image");
  mkdirSync(dir, { recursive: true });
  bundleApi(projectDir, dir);
  copyFileSync(join(projectDir, "files/api/Dockerfile"), join(dir, "Dockerfile"));
  const tag = sha256(
    ["Dockerfile", "server.js", "healthcheck.js"].map((f) => readFileSync(join(dir, f), "utf8")).join("\0"),
  ).slice(0, 16);
  const context = { dir, tag };
  built.set(projectDir, context);
  return context;
}
