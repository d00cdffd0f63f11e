/**
 * A FreeSWITCH event socket client that stays connected: modesl speaks the protocol; this wraps
 * it with reconnection (exponential back-off with jitter), a timeout per `api` command and a
 * hook that runs on every (re)connect. FreeSWITCH may start before or after the API and may
 * restart on its own, so "connected" is a state to report, not an assumption.
 */
import { Connection, type Event } from "modesl";
import type { Socket } from "node:net";

export type EslState = "connecting" | "connected" | "disconnected" | "auth-failed";

export interface EslLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EslClientOptions {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly logger: EslLogger;
  /** Runs after every successful authentication, e.g. to rescan the Sofia profiles. */
  readonly onConnect: (esl: EslClient) => Promise<void>;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Events to subscribe to on every connect, e.g. "CUSTOM sofia::gateway_state", and what receives them (headers URL-decoded). */
  readonly events?: {
    readonly subscribe: string;
    readonly onEvent: (header: (name: string) => string | undefined) => void;
  };
  readonly commandTimeoutMs?: number;
}

/**
 * How long an `api` command waits for its reply before the connection is dropped and made anew
 * (modesl pairs replies with commands by order, so after a lost reply the pairing is unknown).
 */
export const ESL_COMMAND_TIMEOUT_MS = 10_000;

export class EslNotConnectedError extends Error {
  override name = "EslNotConnectedError";
}

export class EslClient {
  private connection: Connection | undefined;
  private socket: Socket | undefined;
  private current: EslState = "disconnected";
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly pending = new Set<(error: Error) => void>();
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly commandTimeoutMs: number;

  constructor(private readonly options: EslClientOptions) {
    this.backoff = { initialMs: 250, maxMs: 30_000, ...options.backoff };
    this.commandTimeoutMs = options.commandTimeoutMs ?? ESL_COMMAND_TIMEOUT_MS;
  }

  get state(): EslState {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.teardown(new EslNotConnectedError("ESL client stopped"));
    this.current = "disconnected";
  }

  /** Runs `api <command>` and resolves with FreeSWITCH's reply body (e.g. "+OK ..." or "-ERR ..."). */
  api(command: string): Promise<string> {
    const connection = this.connection;
    if (this.current !== "connected" || !connection)
      return Promise.reject(new EslNotConnectedError(`ESL is ${this.current}`));
    return this.send(connection, command);
  }

  private send(connection: Connection, command: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const settle = (error?: Error, body?: string) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        if (error) reject(error);
        else resolve(body ?? "");
      };
      const fail = (error: Error) => settle(error);
      const timer = setTimeout(() => {
        settle(new Error(`ESL command timed out after ${this.commandTimeoutMs} ms: ${command}`));
        // modesl matches replies to commands in order; after a lost reply the pairing is unknown.
        this.dropConnection("command timed out");
      }, this.commandTimeoutMs);
      this.pending.add(fail);
      connection.api(command, (response) => settle(undefined, response.getBody()));
    });
  }

  private connect(): void {
    if (this.stopped) return;
    this.current = "connecting";
    const { host, port, password, logger } = this.options;
    const connection = new Connection(host, port, password);
    const socket = connection.socket!;
    // modesl writes a command and its terminating blank line separately; without this, Nagle's
    // algorithm holds the second write for the peer's delayed ACK (~40 ms per command).
    socket.setNoDelay(true);
    this.connection = connection;
    this.socket = socket;
    // modesl re-emits socket errors; without a listener an EventEmitter error would crash the process.
    connection.on("error", (error: NodeJS.ErrnoException) => {
      if (this.connection === connection)
        logger.warn({ esl: `${host}:${port}`, code: error.code, err: error.message }, "ESL connection error");
    });
    connection.on("esl::event::auth::fail", () => {
      if (this.connection !== connection) return;
      logger.error(
        { esl: `${host}:${port}` },
        "ESL authentication failed: esl_password does not match FreeSWITCH's event_socket password",
      );
      this.current = "auth-failed";
      socket.destroy();
    });
    connection.on("esl::ready", () => {
      if (this.connection !== connection) return;
      this.attempt = 0;
      this.current = "connected";
      logger.info({ esl: `${host}:${port}` }, "ESL connected");
      if (this.options.events) connection.events("plain", this.options.events.subscribe);
      this.options
        .onConnect(this)
        .catch((error: Error) => logger.warn({ err: error.message }, "ESL on-connect commands failed"));
    });
    const events = this.options.events;
    if (events) {
      connection.on("esl::event::CUSTOM::**", (event: Event) => {
        if (this.connection !== connection) return;
        try {
          events.onEvent((name) => event.getHeader(name));
        } catch (error) {
          logger.warn({ err: (error as Error).message }, "ESL event handler failed");
        }
      });
    }
    socket.on("close", () => {
      if (this.connection !== connection) return;
      this.teardown(new EslNotConnectedError("ESL connection closed"));
      if (this.current !== "auth-failed") this.current = "disconnected";
      this.scheduleReconnect();
    });
  }

  private dropConnection(reason: string): void {
    this.options.logger.warn({ reason }, "dropping ESL connection");
    this.socket?.destroy();
  }

  private teardown(error: Error): void {
    const socket = this.socket;
    this.connection = undefined;
    this.socket = undefined;
    socket?.destroy();
    for (const fail of [...this.pending]) fail(error);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempt);
    // Full jitter in the upper half: spreads retries without ever retrying in a tight loop.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt++;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
