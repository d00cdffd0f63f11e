/**
 * A loopback stand-in for FreeSWITCH's event socket (mod_event_socket, inbound mode), speaking
 * the wire protocol: on connect it sends `Content-Type: auth/request`; it accepts
 * `auth <password>` with a `command/reply` "+OK accepted" (or "-ERR invalid" and a disconnect),
 * answers `event ...` subscriptions with a command/reply, and `api <command>` with an
 * `api/response` whose body is "+OK". Every api command is recorded, in order. It can also hang
 * as a stuck FreeSWITCH does: connections are accepted and authenticated, api commands are
 * received and never answered, until it resumes and answers them in order.
 */
import { createServer, type Server, type Socket } from "node:net";
import { waitFor } from "./waitFor";

export interface FakeFreeswitch {
  readonly port: number;
  /** `api` commands received, in order, across all connections. */
  readonly commands: string[];
  /** Connections that authenticated successfully. */
  readonly authenticated: number;
  /** Resolves once `commands` has at least `count` entries. */
  waitForCommands(count: number, timeoutMs?: number): Promise<string[]>;
  waitForAuthenticated(count: number, timeoutMs?: number): Promise<void>;
  /** Closes every open connection, as a FreeSWITCH restart would. */
  dropConnections(): void;
  /** `event ...` subscriptions received, in order (e.g. "event plain CUSTOM sofia::gateway_state ..."). */
  readonly subscriptions: string[];
  /** Sends an event, as FreeSWITCH does, to every authenticated connection: `body` is its text/event-plain body as recorded. */
  sendEvent(body: string): void;
  /** Stops answering `api` commands (they are still recorded), on open and new connections alike. */
  hang(): void;
  /** Answers the commands held since hang() on the connections still open, in order, and every command after. */
  resume(): void;
  /** Answer `api` commands with this body instead of "+OK". */
  replyWith(body: (command: string) => string): void;
  close(): Promise<void>;
}

const frame = (headers: Record<string, string | number>, body = "") =>
  Object.entries({ ...headers, ...(body ? { "Content-Length": Buffer.byteLength(body) } : {}) })
    .map(([k, v]) => `${k}: ${v}\n`)
    .join("") +
  "\n" +
  body;

/** Everything here happens on loopback within milliseconds: look often, so the unit tests stay quick. */
const LOOPBACK_POLL = { everyMs: 10 };

export async function startFakeFreeswitch(password: string, port = 0): Promise<FakeFreeswitch> {
  const sockets = new Set<Socket>();
  const authedSockets = new Set<Socket>();
  const commands: string[] = [];
  const subscriptions: string[] = [];
  let authenticated = 0;
  let apiReply = (_command: string) => "+OK\n";
  let held: { socket: Socket; command: string }[] | undefined;
  const answer = (socket: Socket, command: string) =>
    socket.write(frame({ "Content-Type": "api/response" }, apiReply(command)));

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      authedSockets.delete(socket);
    });
    socket.on("error", () => undefined);
    socket.setEncoding("utf8");
    let buffered = "";
    let authed = false;
    socket.write(frame({ "Content-Type": "auth/request" }));
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const line = message.split("\n")[0].trim();
        if (!authed) {
          if (line === `auth ${password}`) {
            authed = true;
            authenticated++;
            authedSockets.add(socket);
            socket.write(frame({ "Content-Type": "command/reply", "Reply-Text": "+OK accepted" }));
          } else {
            socket.write(frame({ "Content-Type": "command/reply", "Reply-Text": "-ERR invalid" }));
            socket.end(frame({ "Content-Type": "text/disconnect-notice" }, "Disconnected, goodbye.\n"));
          }
        } else if (line.startsWith("api ")) {
          const command = line.slice(4);
          commands.push(command);
          if (held) held.push({ socket, command });
          else answer(socket, command);
        } else if (line.startsWith("event ")) {
          subscriptions.push(line);
          socket.write(
            frame({
              "Content-Type": "command/reply",
              "Reply-Text": `+OK event listener enabled ${line.split(" ")[1]}`,
            }),
          );
        } else if (line === "exit") {
          socket.write(frame({ "Content-Type": "command/reply", "Reply-Text": "+OK bye" }));
          socket.end();
        } else {
          socket.write(frame({ "Content-Type": "command/reply", "Reply-Text": "-ERR command not found" }));
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("fake FreeSWITCH has no address");

  return {
    port: address.port,
    commands,
    subscriptions,
    sendEvent(body) {
      for (const s of authedSockets) s.write(frame({ "Content-Type": "text/event-plain" }, body));
    },
    get authenticated() {
      return authenticated;
    },
    async waitForCommands(count, timeoutMs = 5000) {
      await waitFor(
        () => `${count} ESL commands (have: ${JSON.stringify(commands)})`,
        timeoutMs,
        () => commands.length >= count,
        LOOPBACK_POLL,
      );
      return commands.slice();
    },
    async waitForAuthenticated(count, timeoutMs = 5000) {
      await waitFor(`${count} authenticated ESL connections`, timeoutMs, () => authenticated >= count, LOOPBACK_POLL);
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    hang() {
      held ??= [];
    },
    resume() {
      const waiting = held ?? [];
      held = undefined;
      for (const { socket, command } of waiting) if (!socket.destroyed) answer(socket, command);
    },
    replyWith(body) {
      apiReply = body;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
