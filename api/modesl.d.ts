// The part of modesl (FreeSWITCH event socket client, untyped) that the API uses.
declare module "modesl" {
  import type { EventEmitter } from "node:events";
  import type { Socket } from "node:net";

  export class Event {
    getHeader(name: string): string | undefined;
    getBody(): string;
  }

  /** Inbound connection: connects to host:port and answers FreeSWITCH's auth/request with `auth <password>`. */
  export class Connection extends EventEmitter {
    constructor(host: string, port: number, password: string, onReady?: () => void);
    socket: Socket | null;
    api(command: string, cb: (response: Event) => void): void;
    /** `event <type> <events>` (modesl adds the events it needs itself). */
    events(type: "plain" | "json" | "xml", events: string, cb?: () => void): void;
    disconnect(): void;
  }
}
