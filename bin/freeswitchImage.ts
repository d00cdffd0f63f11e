/**
 * The FreeSWITCH image's build context and its local build.
 *
 *   writeFreeswitchImageContext(projectDir, dir): files/freeswitch/ plus the generated sources.txt
 *   and modules.conf (the deploy copies this directory to the host and builds there).
 *
 *   tsx bin/freeswitchImage.ts   builds telephony-freeswitch:<tag> here unless the tag exists (the
 *   local image store is the cache) and prints the image name. Sources: the tarballs in
 *   $FREESWITCH_SOURCES_DIR if set, else GitHub's archives at the pinned commits. Base image:
 *   $FREESWITCH_BASE_IMAGE if set, else the Dockerfile's pinned Debian image.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { buildModulesConf, FREESWITCH_IMAGE_REPO, FREESWITCH_SOURCES, freeswitchImageTag, sourcesTxt } from "../sip/freeswitchImage";

/** The build files shipped as they are. */
const STATIC_FILES = ["Dockerfile", "build.sh", "fetch-sources.sh"] as const;

export interface FreeswitchImageContext {
  readonly dir: string;
  readonly tag: string;
  /** repository:tag */
  readonly image: string;
}

/** The context's files (without sources/), by name. */
export function freeswitchImageFiles(projectDir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of STATIC_FILES) files[name] = readFileSync(join(projectDir, "files/freeswitch", name), "utf8");
  files["sources.txt"] = sourcesTxt();
  files["modules.conf"] = buildModulesConf();
  return files;
}

export function freeswitchImageName(projectDir: string): string {
  return `${FREESWITCH_IMAGE_REPO}:${freeswitchImageTag(freeswitchImageFiles(projectDir))}`;
}

export function writeFreeswitchImageContext(projectDir: string, dir: string): FreeswitchImageContext {
  const files = freeswitchImageFiles(projectDir);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: name.endsWith(".sh") ? 0o755 : 0o644 });
  const tag = freeswitchImageTag(files);
  return { dir, tag, image: `${FREESWITCH_IMAGE_REPO}:${tag}` };
}

const imageExists = (image: string) => spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status === 0;

/** Copies each pinned source's tarball (name-*.tar.xz|gz) from a local directory into sources/. */
function copyLocalSources(sourcesDir: string, contextDir: string): void {
  const available = readdirSync(sourcesDir);
  mkdirSync(join(contextDir, "sources"), { recursive: true });
  for (const { name } of FREESWITCH_SOURCES) {
    const file = available.find((f) => f.startsWith(`${name}-`) && /\.tar\.(xz|gz)$/.test(f));
    if (!file) throw new Error(`FREESWITCH_SOURCES_DIR=${sourcesDir} has no ${name}-*.tar.xz or .tar.gz`);
    copyFileSync(join(sourcesDir, file), join(contextDir, "sources", `${name}.tar.${file.endsWith(".xz") ? "xz" : "gz"}`));
  }
}

/** Builds the image unless its tag exists; returns the image name. */
export function ensureFreeswitchImage(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const cacheDir = env.TELEPHONY_CACHE_DIR ?? join(homedir(), ".cache", "telephony");
  const image = freeswitchImageName(projectDir);
  if (imageExists(image)) return image;
  const context = writeFreeswitchImageContext(projectDir, join(cacheDir, "freeswitch-image", image.split(":")[1]));
  rmSync(join(context.dir, "sources"), { recursive: true, force: true });
  if (env.FREESWITCH_SOURCES_DIR) copyLocalSources(resolve(env.FREESWITCH_SOURCES_DIR), context.dir);
  else execFileSync("bash", [join(context.dir, "fetch-sources.sh")], { stdio: "inherit" });
  const baseArg = env.FREESWITCH_BASE_IMAGE ? ["--build-arg", `BASE_IMAGE=${env.FREESWITCH_BASE_IMAGE}`] : [];
  const started = Date.now();
  execFileSync("docker", ["build", "--network", "host", ...baseArg, "-t", context.image, context.dir], { stdio: "inherit" });
  console.error(`built ${context.image} in ${Math.round((Date.now() - started) / 1000)} s`);
  rmSync(join(context.dir, "sources"), { recursive: true, force: true });
  return context.image;
}

if (require.main === module) {
  const projectDir = resolve(__dirname, "..");
  if (process.argv[2] === "--name") console.log(freeswitchImageName(projectDir));
  else console.log(ensureFreeswitchImage(projectDir));
}
