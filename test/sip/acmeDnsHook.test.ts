/**
 * The dns-01 hook lego's exec provider runs (`present|cleanup <fqdn> <value>`), as rendered for
 * prod, run with bash and curl against a stand-in of the Hetzner Cloud API on loopback
 * (HETZNER_API): the rrset actions, the quoted TXT value, the zone token as a Bearer header.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAcmeDnsHook } from "../../sip/render/tls";
import { prodModel } from "../support/stackConfig";

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: unknown;
}

describe("the dns-01 hook against a Hetzner Cloud API stand-in", () => {
  let server: Server;
  let api: string;
  let status = 201;
  const seen: Seen[] = [];
  const dir = mkdtempSync(join(tmpdir(), "dns-hook-"));
  const hook = join(dir, "dns-hook.sh");

  beforeAll(async () => {
    writeFileSync(hook, renderAcmeDnsHook(prodModel()), { mode: 0o700 });
    server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          authorization: req.headers.authorization,
          body: JSON.parse(body || "null"),
        });
        res.writeHead(status, { "Content-Type": "application/json" }).end('{"action":{"id":1,"status":"success"}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const runHook = (...args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(hook, args, {
        env: { PATH: process.env.PATH, HETZNER_TOKEN: "zone-T0ken", HETZNER_API: api },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    });

  it("adds the challenge as a quoted TXT value to the host's rrset in the zone, with the zone's token", async () => {
    expect(
      (await runHook("present", "_acme-challenge.sip.xynap.de.", "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM")).code,
    ).toBe(0);
    expect(seen.pop()).toEqual({
      method: "POST",
      url: "/v1/zones/xynap.de/rrsets/_acme-challenge.sip/TXT/actions/add_records",
      authorization: "Bearer zone-T0ken",
      body: { ttl: 60, records: [{ value: '"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"' }] },
    });
  });

  it("removes exactly that value on cleanup", async () => {
    expect(
      (await runHook("cleanup", "_acme-challenge.sip.xynap.de.", "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM")).code,
    ).toBe(0);
    expect(seen.pop()).toMatchObject({
      url: "/v1/zones/xynap.de/rrsets/_acme-challenge.sip/TXT/actions/remove_records",
      body: { records: [{ value: '"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"' }] },
    });
  });

  it("fails when the API refuses (so lego fails the renewal), and never touches a name outside the zone", async () => {
    status = 401;
    expect((await runHook("present", "_acme-challenge.sip.xynap.de.", "v")).code).not.toBe(0);
    status = 201;
    const before = seen.length;
    const outside = await runHook("present", "_acme-challenge.sip.example.org.", "v");
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain("is not inside the zone xynap.de");
    expect(seen.length).toBe(before);
  });
});
