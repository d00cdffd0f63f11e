/** Fernet encryption of SIP passwords at rest (the key arrives as the `fernet_key` secret). */
import fernet from "fernet";
import { ConfigError } from "./settings";

export interface Sealer {
  seal(plaintext: string): string;
  open(token: string): string;
}

function fernetSecret(key: string) {
  try {
    return new fernet.Secret(key);
  } catch {
    throw new ConfigError("fernet_key is not a Fernet key: 32 bytes in url-safe base64 (e.g. Python's Fernet.generate_key())");
  }
}

export function createSealer(key: string): Sealer {
  const secret = fernetSecret(key);
  return {
    // A fresh random IV per token (fernet's default), so equal passwords give different tokens.
    seal: (plaintext) => new fernet.Token({ secret }).encode(plaintext),
    // ttl 0: stored passwords do not expire.
    open: (token) => new fernet.Token({ secret, token, ttl: 0 }).decode(),
  };
}
