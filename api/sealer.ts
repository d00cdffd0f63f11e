/**
 * Fernet encryption of SIP passwords at rest. The `fernet_key` secret holds one key per line,
 * the current one first: the current key seals, every listed key opens (as Python's MultiFernet).
 * That is what makes a key rotation safe: the stack lists the new key first and keeps the previous
 * one until the API has re-sealed its store with the new key (Store.open does that on start).
 */
import fernet from "fernet";
import { ConfigError } from "./settings";

export interface Sealer {
  seal(plaintext: string): string;
  /** Opens a token sealed with any of the keys; throws when none opens it. */
  open(token: string): string;
  /** Whether `token` opens with the current key; if not, it should be sealed again. */
  sealedWithCurrentKey(token: string): boolean;
}

/** The keys in a `fernet_key` file: one per line (blank lines ignored), the current one first. */
export function parseFernetKeys(text: string): string[] {
  return text.split(/\s+/).filter((line) => line.length > 0);
}

function fernetSecret(key: string, position: number) {
  try {
    return new fernet.Secret(key);
  } catch {
    throw new ConfigError(
      `fernet_key line ${position + 1} is not a Fernet key: 32 bytes in url-safe base64 (e.g. Python's Fernet.generate_key()); the file holds one key per line, the current one first`,
    );
  }
}

/** `keys`: the current key first, then previous ones (a string is read as a `fernet_key` file). */
export function createSealer(keys: string | readonly string[]): Sealer {
  const list = typeof keys === "string" ? parseFernetKeys(keys) : keys;
  if (list.length === 0) throw new ConfigError("fernet_key holds no key");
  const secrets = list.map(fernetSecret);
  // ttl 0: stored passwords do not expire.
  const openWith = (secret: (typeof secrets)[number], token: string) =>
    new fernet.Token({ secret, token, ttl: 0 }).decode();
  const opensWith = (secret: (typeof secrets)[number], token: string) => {
    try {
      openWith(secret, token);
      return true;
    } catch {
      return false;
    }
  };
  return {
    // A fresh random IV per token (fernet's default), so equal passwords give different tokens.
    seal: (plaintext) => new fernet.Token({ secret: secrets[0] }).encode(plaintext),
    open: (token) => {
      const secret = secrets.find((s) => opensWith(s, token));
      if (!secret) throw new Error("no fernet key opens this token");
      return openWith(secret, token);
    },
    sealedWithCurrentKey: (token) => opensWith(secrets[0], token),
  };
}
