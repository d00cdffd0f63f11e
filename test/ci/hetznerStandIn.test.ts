/**
 * The end-to-end suite's Hetzner API stand-in (test/support/hetznerStandIn.ts) on loopback: the
 * standby pair's notify script talks to it as to Hetzner, so it must answer as hcloud-go's schema
 * says Hetzner does, refuse what Hetzner refuses, and move an address only on an accepted assignment.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hetznerApi, type FloatingIpRecord, type HetznerRequest, type ServerRecord } from "../support/hetznerStandIn";

const TOKEN = "stand-in-token-for-the-test";
const config = {
  floatingIps: {
    "4711": { type: "ipv4", ip: "203.0.113.20" },
    "4712": { type: "ipv6", ip: "2001:db8:f100::/64" },
  },
  servers: {
    "1001": { name: "primary", ipv4: "198.51.100.10", ipv6: "2001:db8:e2e::10" },
    "1002": { name: "standby", ipv4: "198.51.100.11", ipv6: "2001:db8:e2e::11" },
  },
} as const;

const routed: string[] = [];
const log: HetznerRequest[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  const { listener } = hetznerApi(
    config,
    TOKEN,
    (f: FloatingIpRecord, s: ServerRecord) => void routed.push(`${f.ip} via ${f.type === "ipv4" ? s.ipv4 : s.ipv6}`),
    (r) => log.push(r),
  );
  server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function call(method: string, path: string, body?: string, token: string | null = TOKEN) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token !== null ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json" },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe("the Hetzner API stand-in", () => {
  it("assigns a floating IP: 201 with hcloud-go's action, and routes the address to that server first", async () => {
    const before = Date.now();
    const { status, json } = await call("POST", "/floating_ips/4711/actions/assign", '{"server": 1002}');
    expect(status).toBe(201);
    expect(Object.keys(json)).toEqual(["action"]);
    const action = json.action;
    expect(action).toMatchObject({
      command: "assign_floating_ip",
      status: "running",
      progress: 0,
      finished: null,
      error: null,
      resources: [
        { id: 1002, type: "server" },
        { id: 4711, type: "floating_ip" },
      ],
    });
    expect(Number.isInteger(action.id)).toBe(true);
    expect(Date.parse(action.started)).toBeGreaterThanOrEqual(before - 1000);
    expect(routed).toEqual(["203.0.113.20 via 198.51.100.11"]);
    expect(log.at(-1)).toMatchObject({
      method: "POST",
      status: 201,
      authorized: true,
      assigned: { floatingIp: 4711, server: 1002 },
    });

    // The action reads back finished; the floating IP names its server.
    const read = await call("GET", `/actions/${action.id}`);
    expect(read.status).toBe(200);
    expect(read.json.action).toMatchObject({ id: action.id, status: "success", progress: 100 });
    expect(Date.parse(read.json.action.finished)).not.toBeNaN();
    expect((await call("GET", "/floating_ips/4711")).json.floating_ip).toMatchObject({
      id: 4711,
      type: "ipv4",
      ip: "203.0.113.20",
      server: 1002,
    });
  });

  it("routes the IPv6 floating network (a /64) to the server's own IPv6", async () => {
    expect((await call("POST", "/floating_ips/4712/actions/assign", '{"server": 1001}')).status).toBe(201);
    expect(routed.at(-1)).toBe("2001:db8:f100::/64 via 2001:db8:e2e::10");
    expect((await call("GET", "/floating_ips/4712")).json.floating_ip).toMatchObject({
      ip: "2001:db8:f100::/64",
      server: 1001,
    });
  });

  it("refuses a missing or wrong token with 401 unauthorized and moves nothing", async () => {
    const count = routed.length;
    for (const token of [null, "not-the-token"]) {
      const { status, json } = await call("POST", "/floating_ips/4711/actions/assign", '{"server": 1001}', token);
      expect(status).toBe(401);
      expect(json).toEqual({ error: { code: "unauthorized", message: expect.any(String), details: {} } });
      expect(log.at(-1)).toMatchObject({ status: 401, authorized: false });
      expect(log.at(-1)).not.toHaveProperty("assigned");
    }
    expect(routed).toHaveLength(count);
    expect((await call("GET", "/floating_ips/4711")).json.floating_ip.server).toBe(1002);
  });

  it("answers 404 not_found for an unknown floating IP or server, 400 for a body that is not {server: <integer>}", async () => {
    const count = routed.length;
    const unknownIp = await call("POST", "/floating_ips/9999/actions/assign", '{"server": 1001}');
    expect(unknownIp.status).toBe(404);
    expect(unknownIp.json.error).toMatchObject({ code: "not_found" });
    const unknownServer = await call("POST", "/floating_ips/4711/actions/assign", '{"server": 9999}');
    expect(unknownServer.status).toBe(404);
    expect(unknownServer.json.error.message).toContain("server");
    expect((await call("POST", "/floating_ips/4711/actions/assign", "{not json")).json.error.code).toBe("json_error");
    const stringId = await call("POST", "/floating_ips/4711/actions/assign", '{"server": "1001"}');
    expect([stringId.status, stringId.json.error.code]).toEqual([400, "invalid_input"]);
    expect((await call("GET", "/floating_ips/9999")).status).toBe(404);
    expect((await call("GET", "/actions/9999")).status).toBe(404);
    expect(routed).toHaveLength(count);
  });

  it("never writes the token into its log", () => {
    expect(JSON.stringify(log)).not.toContain(TOKEN);
  });
});
