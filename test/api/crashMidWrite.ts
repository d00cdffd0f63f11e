/**
 * Run as a child process: opens the store, then replaces its trunks with `plusnet-new` and is
 * SIGKILLed at the moment the store renames its fully written, fsynced temporary file over the
 * real one — the worst point for a crash.
 *   node --import tsx crashMidWrite.ts <storePath> <fernetKey>
 */
import { promises as fs } from "node:fs";
import { createSealer } from "../../api/sealer";
import { Store } from "../../api/store";
import { plusnet } from "../support/apiFixtures";

async function main() {
  const [storePath, fernetKey] = process.argv.slice(2);
  const { store } = await Store.open(storePath, createSealer(fernetKey));
  fs.rename = () => {
    process.kill(process.pid, "SIGKILL");
    return new Promise<void>(() => undefined);
  };
  await store.update((state) => ({ ...state, trunks: [{ ...plusnet, name: "plusnet-new" }] }));
}

void main();
