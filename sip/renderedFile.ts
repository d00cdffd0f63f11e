import type { ReloadClass } from "./reload";

/** The host's public addresses, from the primary IPs (or the stack's preview addresses offline). */
export interface HostAddresses {
  readonly ipv4: string;
  /** The address the server answers on, not the /64 network. */
  readonly ipv6: string;
}

/** A file the stack writes to the host. */
export interface RenderedFile {
  /** Absolute path on the host. */
  readonly path: string;
  readonly content: string;
  readonly reload: ReloadClass;
  /** Holds secret values: written with mode 0600, never shown in a diff or summary. */
  readonly secret: boolean;
  readonly mode: string;
}
