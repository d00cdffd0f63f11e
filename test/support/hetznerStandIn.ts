/**
 * A stand-in for the Hetzner Cloud API's floating IP calls the standby pair makes, with the
 * request and response shapes of hcloud-go's schema (hcloud/schema/floating_ip.go, action.go,
 * error.go):
 *
 *   POST /v1/floating_ips/{id}/actions/assign   {"server": <id>}   201 {"action": {...}}
 *   GET  /v1/floating_ips/{id}                                     200 {"floating_ip": {...}}
 *   GET  /v1/actions/{id}, /v1/floating_ips/{id}/actions/{id}      200 {"action": {...}} (finished)
 *
 * with `Authorization: Bearer <token>` (401 `unauthorized` without it or with another), 404
 * `not_found` for an unknown floating IP, server or path, 400 `json_error`/`invalid_input` for a
 * body that is not `{"server": <integer>}`. An assignment moves the address the way Hetzner's
 * network does: `route(floatingIp, server)` runs before the answer (in the end-to-end suite, `ip
 * route replace <address> via <that server's own address>` in the router namespace). The action
 * is answered `running` as Hetzner does, and reads back `success`.
 *
 * As a program, in the router namespace (startHetznerStandIn below runs it):
 *   HETZNER_STAND_IN_TOKEN=<token> tsx hetznerStandIn.ts '<StandInProgram as JSON>'
 * It prints one JSON line per request (HetznerRequest; never the token) after "listening".
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_DIR } from "./environment";
import { stopProcessGroup } from "./exec";
import { waitFor } from "./waitFor";

export interface FloatingIpRecord {
  readonly type: "ipv4" | "ipv6";
  /** The IPv4 address, or the IPv6 network (/64), as the API reports it. */
  readonly ip: string;
}

export interface ServerRecord {
  readonly name: string;
  /** The server's own addresses: where the floating addresses are routed once assigned to it. */
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface HetznerStandInConfig {
  /** Floating IPs by ID. */
  readonly floatingIps: Readonly<Record<string, FloatingIpRecord>>;
  /** Servers by ID. */
  readonly servers: Readonly<Record<string, ServerRecord>>;
}

/** One request as the stand-in saw it. */
export interface HetznerRequest {
  readonly event: "request";
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Whether the bearer token was the right one. */
  readonly authorized: boolean;
  /** An accepted assignment: which floating IP went to which server. */
  readonly assigned?: { readonly floatingIp: number; readonly server: number };
  readonly at: string;
}

export type Route = (floatingIp: FloatingIpRecord, server: ServerRecord) => void | Promise<void>;

interface Action {
  id: number;
  command: string;
  status: "running" | "success" | "error";
  progress: number;
  started: string;
  finished: string | null;
  resources: { id: number; type: string }[];
  error: { code: string; message: string } | null;
}

const errorBody = (code: string, message: string) => ({ error: { code, message, details: {} } });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString("utf8")));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/**
 * The API as a request listener. `assignedTo` holds each floating IP's server ID (absent:
 * unassigned); `log` sees every request.
 */
export function hetznerApi(
  config: HetznerStandInConfig,
  token: string,
  route: Route,
  log: (request: HetznerRequest) => void,
): { readonly listener: RequestListener; readonly assignedTo: Map<number, number> } {
  const assignedTo = new Map<number, number>();
  const actions = new Map<number, Action>();
  let nextAction = 1;
  const created = new Date().toISOString();

  const listener: RequestListener = (req, res) => {
    void (async () => {
      const path = (req.url ?? "/").split("?")[0];
      const method = req.method ?? "GET";
      const body = await readBody(req);
      const authorized = req.headers.authorization === `Bearer ${token}`;
      let assigned: HetznerRequest["assigned"];
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(json));
        log({
          event: "request",
          method,
          path,
          status,
          authorized,
          ...(assigned ? { assigned } : {}),
          at: new Date().toISOString(),
        });
      };
      // Hetzner answers an unauthenticated request 401 whatever it asks for.
      if (!authorized) return answer(401, errorBody("unauthorized", "unable to authenticate"));

      const finishedAction = (action: Action) => ({
        action: { ...action, status: "success", progress: 100, finished: action.finished ?? new Date().toISOString() },
      });
      let m: RegExpExecArray | null;
      if (method === "POST" && (m = /^\/v1\/floating_ips\/(\d+)\/actions\/assign$/.exec(path))) {
        const id = Number(m[1]);
        const floating = config.floatingIps[id];
        if (!floating) return answer(404, errorBody("not_found", `floating_ip with ID ${id} not found`));
        let request: unknown;
        try {
          request = JSON.parse(body);
        } catch {
          return answer(400, errorBody("json_error", "invalid JSON in request body"));
        }
        const serverId = (request as { server?: unknown } | null)?.server;
        if (typeof serverId !== "number" || !Number.isInteger(serverId))
          return answer(400, errorBody("invalid_input", "invalid input in field 'server'"));
        const server = config.servers[serverId];
        if (!server) return answer(404, errorBody("not_found", `server with ID ${serverId} not found`));
        await route(floating, server);
        assignedTo.set(id, serverId);
        assigned = { floatingIp: id, server: serverId };
        const action: Action = {
          id: nextAction++,
          command: "assign_floating_ip",
          status: "running",
          progress: 0,
          started: new Date().toISOString(),
          finished: null,
          resources: [
            { id: serverId, type: "server" },
            { id, type: "floating_ip" },
          ],
          error: null,
        };
        actions.set(action.id, action);
        return answer(201, { action });
      }
      if (method === "GET" && (m = /^\/v1\/(?:floating_ips\/\d+\/)?actions\/(\d+)$/.exec(path))) {
        const action = actions.get(Number(m[1]));
        return action
          ? answer(200, finishedAction(action))
          : answer(404, errorBody("not_found", `action with ID ${m[1]} not found`));
      }
      if (method === "GET" && (m = /^\/v1\/floating_ips\/(\d+)$/.exec(path))) {
        const id = Number(m[1]);
        const floating = config.floatingIps[id];
        if (!floating) return answer(404, errorBody("not_found", `floating_ip with ID ${id} not found`));
        return answer(200, {
          floating_ip: {
            id,
            name: `floating-${floating.type}`,
            description: null,
            ip: floating.ip,
            type: floating.type,
            server: assignedTo.get(id) ?? null,
            dns_ptr: [],
            home_location: { name: "fsn1" },
            blocked: false,
            protection: { delete: false },
            labels: {},
            created,
          },
        });
      }
      return answer(404, errorBody("not_found", `no ${method} ${path}`));
    })().catch((error: Error) => {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify(errorBody("server_error", error.message)));
    });
  };
  return { listener, assignedTo };
}

/** What the program takes: the API, where it listens, and the namespace-local routing it does. */
export interface StandInProgram extends HetznerStandInConfig {
  readonly listen: { readonly host: string; readonly port: number };
}

/** `ip route replace <address> via <server's own address>`: Hetzner's network, in the namespace this runs in. */
export const ipRoute: Route = (floating, server) => {
  const prefix = floating.type === "ipv4" ? `${floating.ip}/32` : floating.ip;
  const via = floating.type === "ipv4" ? server.ipv4 : server.ipv6;
  execFileSync("ip", [floating.type === "ipv4" ? "-4" : "-6", "route", "replace", prefix, "via", via]);
};

async function runProgram(program: StandInProgram): Promise<void> {
  const token = process.env.HETZNER_STAND_IN_TOKEN;
  if (!token) throw new Error("HETZNER_STAND_IN_TOKEN is not set");
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const { listener } = hetznerApi(program, token, ipRoute, print);
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(program.listen.port, program.listen.host, resolve));
  print({ event: "listening" });
}

export interface RunningStandIn {
  /** Every request so far, in order. */
  requests(): HetznerRequest[];
  /** The accepted assignments so far, in order. */
  assignments(): { floatingIp: number; server: number; at: string }[];
  stop(): void;
  /** What it printed on stderr. */
  stderr(): string;
}

const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");

/** Runs the stand-in in `namespace` (root) and waits until it listens. */
export async function startHetznerStandIn(
  namespace: string,
  program: StandInProgram,
  token: string,
): Promise<RunningStandIn> {
  const child: ChildProcess = spawn(
    "ip",
    ["netns", "exec", namespace, TSX, join(__dirname, "hetznerStandIn.ts"), JSON.stringify(program)],
    { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, HETZNER_STAND_IN_TOKEN: token } },
  );
  const lines: (HetznerRequest | { event: "listening" })[] = [];
  let stderr = "";
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on("line", (line) => {
    if (line.trim()) lines.push(JSON.parse(line) as HetznerRequest);
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const stop = () => stopProcessGroup(child);
  try {
    await waitFor(`the Hetzner API stand-in to listen: ${stderr}`, 30_000, () => {
      if (child.exitCode !== null) throw new Error(`it exited ${child.exitCode}: ${stderr}`);
      return lines.some((l) => l.event === "listening");
    });
  } catch (error) {
    stop();
    throw error;
  }
  const requests = () => lines.filter((l): l is HetznerRequest => l.event === "request");
  return {
    requests,
    assignments: () =>
      requests().flatMap((r) =>
        r.assigned ? [{ floatingIp: r.assigned.floatingIp, server: r.assigned.server, at: r.at }] : [],
      ),
    stop,
    stderr: () => stderr,
  };
}

// Only as a program (tsx hetznerStandIn.ts '<json>'); importing the module runs nothing.
if (process.argv[1]?.endsWith("hetznerStandIn.ts") && process.argv[2]) {
  runProgram(JSON.parse(process.argv[2]) as StandInProgram).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
