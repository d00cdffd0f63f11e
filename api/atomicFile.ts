/**
 * Durable whole-file replacement: write a temporary file beside the target, fsync it, rename it
 * over the target (atomic on POSIX), then fsync the directory so the rename itself survives a
 * power cut. A crash at any point leaves either the old file or the new one, never a mix; at
 * worst a stray temporary file remains, which `removeStrayTempFiles` clears on the next start.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";

const TEMP_SUFFIX = ".tmp";
const tempPrefix = (path: string) => `${basename(path)}.`;

export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const temp = join(dirname(path), `${tempPrefix(path)}${process.pid}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
  const file = await fs.open(temp, "wx", mode);
  try {
    await file.writeFile(data, "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await fs.rename(temp, path);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temporary files left by a write that never reached its rename; returns the names removed. */
export async function removeStrayTempFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const stray = names.filter((n) => n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX));
  await Promise.all(stray.map((n) => fs.rm(join(dir, n), { force: true })));
  return stray;
}
