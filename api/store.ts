/**
 * The durable trunk and extension store: one JSON file, replaced atomically on every change
 * (see atomicFile.ts), with every SIP password sealed with Fernet before it touches disk.
 * The whole set is small (tens of trunks, hundreds of extensions) and read once at start;
 * afterwards the in-memory copy answers every request.
 */
import { promises as fs } from "node:fs";
import { z } from "zod";
import { type ExtensionRecord, extensionSchema, type GatewaySpec, gatewaySpecSchema } from "../sip/apiContract";
import { removeStrayTempFiles, writeFileAtomic } from "./atomicFile";
import type { Sealer } from "./sealer";

export interface StoreState {
  readonly trunks: readonly GatewaySpec[];
  readonly extensions: readonly ExtensionRecord[];
  /**
   * `killgw` commands FreeSWITCH has not confirmed yet. Written before they are sent, so a change
   * made while FreeSWITCH is down (or an API crash mid-reload) is not lost: a rescan alone would
   * keep a changed gateway's old definition.
   */
  readonly pendingKills: readonly string[];
  /**
   * Extensions whose entries in FreeSWITCH's user cache may be stale: written with the change that
   * made them so, cleared once FreeSWITCH confirmed the flush (api/userCache.ts).
   */
  readonly pendingFlushes: readonly string[];
}

/** The only ESL commands that may wait in the store. */
const KILLGW = /^sofia profile [A-Za-z0-9_.-]+ killgw [A-Za-z0-9_.-]+$/;

const FORMAT = "telephony-config-api/store";
const VERSION = 1;

// On disk a password is only ever present as `passwordSealed` (a Fernet token).
const storedGateway = z.looseObject({ name: z.string(), profile: z.string(), passwordSealed: z.string().optional() });
const storedExtension = z.looseObject({ id: z.string(), passwordSealed: z.string() });
const storeFileSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  trunks: z.array(storedGateway),
  extensions: z.array(storedExtension),
  // Optional: files written before pending kills were stored have none.
  pendingKills: z
    .array(z.string().regex(KILLGW, { message: "must be a `sofia profile <p> killgw <gateway>` command" }))
    .optional(),
  // Optional likewise; ids end up in `xml_flush_cache id <id> <domain>`, so they are checked as ids.
  pendingFlushes: z.array(extensionSchema.shape.id).optional(),
});

export class StoreError extends Error {
  override name = "StoreError";
}

export class Store {
  private constructor(
    private readonly path: string,
    private readonly sealer: Sealer,
    private current: StoreState,
  ) {}

  /**
   * Loads the store (an absent file is an empty store: first start) and clears stray temp files.
   * Passwords sealed with a previous Fernet key (after a key rotation) are sealed again with the
   * current key before the store is used, so the previous key can be dropped at the next rotation;
   * `resealed` counts them.
   */
  static async open(
    path: string,
    sealer: Sealer,
  ): Promise<{ store: Store; strayTempFiles: string[]; existed: boolean; resealed: number }> {
    const strayTempFiles = await removeStrayTempFiles(path);
    let text: string | undefined;
    try {
      text = await fs.readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const { state, sealedWithPreviousKey } =
      text === undefined
        ? { state: { trunks: [], extensions: [], pendingKills: [], pendingFlushes: [] }, sealedWithPreviousKey: 0 }
        : decode(path, text, sealer);
    if (sealedWithPreviousKey > 0) await writeFileAtomic(path, encode(state, sealer));
    return {
      store: new Store(path, sealer, state),
      strayTempFiles,
      existed: text !== undefined,
      resealed: sealedWithPreviousKey,
    };
  }

  get state(): StoreState {
    return this.current;
  }

  private writes: Promise<unknown> = Promise.resolve();

  /**
   * Durably replaces the state with `change(current)`; the in-memory copy changes only after the
   * file is on disk. Updates run one at a time, each on the state the previous one left, so a
   * trunk PUT and a confirmed killgw cannot overwrite each other.
   */
  update(change: (current: StoreState) => StoreState): Promise<void> {
    const run = this.writes.then(async () => {
      const next = change(this.current);
      await writeFileAtomic(this.path, encode(next, this.sealer));
      this.current = next;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}

function encode(state: StoreState, sealer: Sealer): string {
  const trunks = state.trunks.map(({ password, ...rest }) =>
    password === undefined ? rest : { ...rest, passwordSealed: sealer.seal(password) },
  );
  const extensions = state.extensions.map(({ password, ...rest }) => ({
    ...rest,
    passwordSealed: sealer.seal(password),
  }));
  return (
    JSON.stringify(
      {
        format: FORMAT,
        version: VERSION,
        trunks,
        extensions,
        pendingKills: state.pendingKills,
        pendingFlushes: state.pendingFlushes,
      },
      null,
      2,
    ) + "\n"
  );
}

function decode(path: string, text: string, sealer: Sealer): { state: StoreState; sealedWithPreviousKey: number } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // Writes are atomic, so this is damage from outside (disk, an editor): refuse to serve a guess.
    throw new StoreError(
      `${path} is not valid JSON (${(e as Error).message}); restore it from a backup or remove it to start empty`,
    );
  }
  const parsed = storeFileSchema.safeParse(json);
  if (!parsed.success)
    throw new StoreError(
      `${path} is not a ${FORMAT} v${VERSION} file: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  let sealedWithPreviousKey = 0;
  const open = (token: string, what: string) => {
    let plaintext: string;
    try {
      plaintext = sealer.open(token);
    } catch {
      throw new StoreError(
        `cannot decrypt the password of ${what} in ${path}: no key in fernet_key opens it (the store was sealed with a key no longer listed). ` +
          "Rotate the key with telephony:rotation.apiStoreEncryption, which keeps the previous key until the store is re-sealed; to recover, put the old key back as the second line of fernet_key",
      );
    }
    if (!sealer.sealedWithCurrentKey(token)) sealedWithPreviousKey++;
    return plaintext;
  };
  // Entries are re-validated with the API's own schemas, so a hand-edited store cannot smuggle in
  // a gateway name that would break an ESL command.
  const entry = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
    const result = schema.safeParse(value);
    if (!result.success)
      throw new StoreError(
        `${what} in ${path} is invalid: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    return result.data;
  };
  const trunks = parsed.data.trunks.map(({ passwordSealed, ...rest }) =>
    entry(
      gatewaySpecSchema,
      passwordSealed === undefined ? rest : { ...rest, password: open(passwordSealed, `trunk ${rest.name}`) },
      `trunk ${rest.name}`,
    ),
  );
  const extensions = parsed.data.extensions.map(({ passwordSealed, ...rest }) =>
    entry(extensionSchema, { ...rest, password: open(passwordSealed, `extension ${rest.id}`) }, `extension ${rest.id}`),
  );
  return {
    state: {
      trunks,
      extensions,
      pendingKills: parsed.data.pendingKills ?? [],
      pendingFlushes: parsed.data.pendingFlushes ?? [],
    },
    sealedWithPreviousKey,
  };
}
