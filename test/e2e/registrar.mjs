// A stand-in SIP registrar for the end-to-end test, run inside the test's network namespace:
//   node registrar.mjs <password-file> <realm> <address>...   (UDP 5060 on each address)
// REGISTER without credentials → 401 with a digest challenge; with credentials → 200 only if the
// digest matches the password read from <password-file> at that moment (so a rotated password is
// checked for real), else 403. Every other request (OPTIONS pings, ...) → 200. On stdout:
// "listening on <address>" per address, then one line per REGISTER: "REGISTER <user> <200|401|403>
// from <source address>" (the standby pair's trunk must register from the floating IPv6), or
// "UNREGISTER …" for one that removes the binding (Expires 0: a gateway killed or replaced).
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";

const [passwordFile, realm, ...addresses] = process.argv.slice(2);
const md5 = (s) => createHash("md5").update(s).digest("hex");

function parse(text) {
  const [head] = text.split("\r\n\r\n");
  const [start, ...lines] = head.split("\r\n");
  const headers = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) (headers[line.slice(0, i).trim().toLowerCase()] ??= []).push(line.slice(i + 1).trim());
  }
  const [method, uri] = start.split(" ");
  return { method, uri, headers };
}

function digestParams(value) {
  const out = {};
  for (const m of value.replace(/^Digest\s+/i, "").matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g))
    out[m[1].toLowerCase()] = m[2] ?? m[3];
  return out;
}

function answer(req, status, reason, extra = []) {
  const h = req.headers;
  const copy = (name) => (h[name] ?? []).map((v) => `${name.replace(/(^|-)\w/g, (c) => c.toUpperCase())}: ${v}`);
  const to =
    (h.to?.[0] ?? "") +
    (status >= 200 && !/;tag=/.test(h.to?.[0] ?? "") ? `;tag=${randomBytes(4).toString("hex")}` : "");
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...copy("via"),
    ...copy("from"),
    `To: ${to}`,
    ...copy("call-id"),
    ...copy("cseq"),
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

for (const address of addresses) {
  const socket = dgram.createSocket(isIPv6(address) ? "udp6" : "udp4");
  socket.on("message", (buf, rinfo) => {
    const req = parse(buf.toString("utf8"));
    if (!req.method || req.method.startsWith("SIP/")) return;
    const from = rinfo.family === "IPv6" ? `[${rinfo.address}]` : rinfo.address;
    let reply;
    if (req.method === "REGISTER") {
      const auth = req.headers.authorization?.[0];
      const user = /sip:([^@>;]+)@/.exec(req.headers.from?.[0] ?? "")?.[1] ?? "?";
      const removes =
        req.headers.expires?.[0]?.trim() === "0" || /;\s*expires=0\b/.test(req.headers.contact?.[0] ?? "");
      const verb = removes ? "UNREGISTER" : "REGISTER";
      if (!auth) {
        reply = answer(req, 401, "Unauthorized", [
          `WWW-Authenticate: Digest realm="${realm}", nonce="${randomBytes(8).toString("hex")}", algorithm=MD5, qop="auth"`,
        ]);
        console.log(`${verb} ${user} 401 from ${from}`);
      } else {
        const p = digestParams(auth);
        const password = readFileSync(passwordFile, "utf8").trim();
        const ha1 = md5(`${p.username}:${p.realm}:${password}`);
        const ha2 = md5(`REGISTER:${p.uri}`);
        const expected = p.qop
          ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`)
          : md5(`${ha1}:${p.nonce}:${ha2}`);
        const ok = p.response === expected;
        const contact = req.headers.contact?.[0];
        reply = ok
          ? answer(req, 200, "OK", [
              ...(contact
                ? [`Contact: ${contact.replace(/;expires=\d+/, "")};expires=${req.headers.expires?.[0] ?? 600}`]
                : []),
              `Expires: ${req.headers.expires?.[0] ?? 600}`,
            ])
          : answer(req, 403, "Forbidden");
        console.log(
          `${verb} ${user} ${ok ? 200 : `403 (${auth.replace(/response="[^"]*"/, "response=…")})`} from ${from}`,
        );
      }
    } else if (req.method !== "ACK") {
      reply = answer(req, 200, "OK");
    }
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.on("listening", () => console.log(`listening on ${address}`));
  socket.bind(5060, address);
}
