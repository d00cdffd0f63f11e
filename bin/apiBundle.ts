/**
 * `npm run build:api [-- <dir>]`: bundles the config API into dist/api/ (or <dir>), as the stack
 * does for its image (components/apiBundle.ts holds the bundling).
 */
import { resolve } from "node:path";
import { bundleApi } from "../components/apiBundle";

if (require.main === module) {
  const projectDir = resolve(__dirname, "..");
  bundleApi(projectDir, resolve(projectDir, process.argv[2] ?? "dist/api"));
}
