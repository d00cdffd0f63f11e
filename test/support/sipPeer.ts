/**
 * A small scripted SIP peer (UDP) for the real-FreeSWITCH suite, run in a test network namespace:
 *   tsx test/support/sipPeer.ts '<PeerConfig as JSON>'
 * It can be, at once: a registrar that checks the digest (the 1&1 stand-in), an OPTIONS responder
 * (the Plusnet stand-in), a callee that logs every INVITE and answers it with a fixed final code
 * (no dialog to tear down), a phone that registers with digest auth, and a one-shot client that
 * sends one request (answering a 401/407 challenge) and reports the final response.
 * Every received request and every final response is printed as one JSON line on stdout.
 */
import { createHash, randomBytes } from "node:crypto";
import { createSocket, type RemoteInfo } from "node:dgram";
import { isIPv6 } from "node:net";

export interface PeerConfig {
  readonly bind: string;
  readonly port: number;
  /** Challenge REGISTERs and accept only this account's digest. */
  readonly registrar?: { readonly realm: string; readonly user: string; readonly password: string };
  /** Final status for OPTIONS (default 200). */
  readonly options?: number;
  /** Final status for INVITE (default 486). */
  readonly invite?: number;
  /** Register as a phone at start. `server` is host:port as it goes into a URI. */
  readonly register?: {
    readonly server: string;
    readonly domain: string;
    readonly user: string;
    readonly password: string;
  };
  /** Send this one request, print the final response, exit. */
  readonly request?: OneShot;
}

export interface OneShot {
  readonly method: "REGISTER" | "INVITE" | "OPTIONS";
  /** host:port the request goes to (IPv6 bracketed). */
  readonly server: string;
  readonly uri: string;
  readonly from: string;
  readonly to: string;
  readonly fromDisplay?: string;
  readonly user?: string;
  readonly password?: string;
}

export interface LoggedRequest {
  readonly event: "request";
  readonly method: string;
  readonly uri: string;
  readonly source: string;
  readonly headers: Record<string, string[]>;
  /** REGISTER at a registrar: whether the digest matched the configured account. */
  readonly digest?: { readonly ok: boolean; readonly realm?: string; readonly username?: string };
}

export interface LoggedResponse {
  readonly event: "response";
  readonly method: string;
  readonly status: number;
  readonly reason: string;
}

interface Message {
  readonly first: string;
  readonly headers: [string, string][];
  readonly body: string;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const token = () => randomBytes(6).toString("hex");

function parse(text: string): Message {
  const split = text.indexOf("\r\n\r\n");
  const head = split >= 0 ? text.slice(0, split) : text;
  const [first, ...lines] = head.split("\r\n");
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { first, headers, body: split >= 0 ? text.slice(split + 4) : "" };
}

const header = (m: Message, name: string) => m.headers.find(([n]) => n === name)?.[1];
const all = (m: Message, name: string) => m.headers.filter(([n]) => n === name).map(([, v]) => v);

function digestParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of value.replace(/^Digest\s+/i, "").matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g))
    out[match[1].toLowerCase()] = match[3] ?? match[2];
  return out;
}

function digestResponse(
  p: Record<string, string>,
  user: string,
  password: string,
  method: string,
  uri: string,
  nc: string,
  cnonce: string,
): string {
  const ha1 = md5(`${user}:${p.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  return p.qop ? md5(`${ha1}:${p.nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
}

function build(first: string, headers: [string, string][], body = ""): string {
  return `${first}\r\n${[...headers, ["Content-Length", String(Buffer.byteLength(body))]].map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n${body}`;
}

function emit(line: LoggedRequest | LoggedResponse | Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export async function runPeer(config: PeerConfig): Promise<void> {
  const socket = createSocket(isIPv6(config.bind) ? "udp6" : "udp4");
  await new Promise<void>((resolve) => socket.bind(config.port, config.bind, resolve));
  const port = socket.address().port;
  const local = isIPv6(config.bind) ? `[${config.bind}]:${port}` : `${config.bind}:${port}`;
  const nonce = token();
  const toTag = token();
  const waiting = new Map<string, (m: Message) => void>();

  const reply = (req: Message, rinfo: RemoteInfo, status: number, reason: string, extra: [string, string][] = []) => {
    const to = header(req, "to") ?? "";
    const headers: [string, string][] = [
      ...all(req, "via").map((v) => ["Via", v] as [string, string]),
      ["From", header(req, "from") ?? ""],
      ["To", status > 100 && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to],
      ["Call-ID", header(req, "call-id") ?? ""],
      ["CSeq", header(req, "cseq") ?? ""],
      ...extra,
    ];
    socket.send(build(`SIP/2.0 ${status} ${reason}`, headers), rinfo.port, rinfo.address);
  };

  const onRequest = (m: Message, rinfo: RemoteInfo) => {
    const [method, uri] = m.first.split(" ");
    const headers: Record<string, string[]> = {};
    for (const [n, v] of m.headers) (headers[n] ??= []).push(v);
    let digest: LoggedRequest["digest"];
    if (method === "REGISTER" && config.registrar) {
      const auth = header(m, "authorization");
      if (!auth) {
        reply(m, rinfo, 401, "Unauthorized", [
          ["WWW-Authenticate", `Digest realm="${config.registrar.realm}", nonce="${nonce}", algorithm=MD5, qop="auth"`],
        ]);
      } else {
        const p = digestParams(auth);
        const expected = digestResponse(
          { ...p, realm: config.registrar.realm, nonce },
          config.registrar.user,
          config.registrar.password,
          "REGISTER",
          p.uri ?? "",
          p.nc ?? "",
          p.cnonce ?? "",
        );
        const ok =
          p.username === config.registrar.user &&
          p.realm === config.registrar.realm &&
          p.nonce === nonce &&
          p.response === expected;
        digest = { ok, realm: p.realm, username: p.username };
        if (ok) {
          const contact = header(m, "contact") ?? "";
          reply(m, rinfo, 200, "OK", [
            ["Contact", `${contact};expires=600`],
            ["Expires", "600"],
          ]);
        } else reply(m, rinfo, 403, "Forbidden");
      }
    } else if (method === "OPTIONS") reply(m, rinfo, config.options ?? 200, "Peer");
    else if (method === "INVITE") reply(m, rinfo, config.invite ?? 486, "Peer");
    else if (method === "BYE" || method === "CANCEL") reply(m, rinfo, 200, "OK");
    else if (method !== "ACK") reply(m, rinfo, 501, "Not Implemented");
    const source = rinfo.family === "IPv6" ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`;
    emit({ event: "request", method, uri, source, headers, ...(digest ? { digest } : {}) });
  };

  socket.on("message", (data, rinfo) => {
    const m = parse(data.toString("utf8"));
    if (!m.first.startsWith("SIP/2.0 ")) return onRequest(m, rinfo);
    const status = Number(m.first.split(" ")[1]);
    if (status < 200) return;
    const key = `${header(m, "call-id")} ${header(m, "cseq")}`;
    waiting.get(key)?.(m);
  });

  /** Sends a request until a final response arrives (UDP retransmission, T1 = 500 ms). */
  const transact = (target: { host: string; port: number }, text: string, key: string): Promise<Message> =>
    new Promise((resolve, reject) => {
      let tries = 0;
      const send = () => {
        if (tries++ >= 8) {
          waiting.delete(key);
          clearInterval(timer);
          reject(new Error(`no final response to ${key}`));
        } else socket.send(text, target.port, target.host);
      };
      const timer = setInterval(send, 500);
      waiting.set(key, (m) => {
        clearInterval(timer);
        waiting.delete(key);
        resolve(m);
      });
      send();
    });

  /** One request, answering one digest challenge when credentials are given; returns the final response. */
  const request = async (r: OneShot): Promise<Message> => {
    const target = splitTarget(r.server);
    const callId = `${token()}@${config.bind}`;
    const fromTag = token();
    let cseq = 1;
    const first = `${r.method} ${r.uri} SIP/2.0`;
    const base = (branch: string): [string, string][] => [
      ["Via", `SIP/2.0/UDP ${local};branch=z9hG4bK${branch};rport`],
      ["Max-Forwards", "70"],
      ["From", `${r.fromDisplay !== undefined ? `"${r.fromDisplay}" ` : ""}<${r.from}>;tag=${fromTag}`],
      ["To", `<${r.to}>`],
      ["Call-ID", callId],
      ["CSeq", `${cseq} ${r.method}`],
      ["Contact", `<sip:${/^sips?:([^@]+)@/.exec(r.from)?.[1] ?? "peer"}@${local}>`],
      ["User-Agent", "fssip-peer"],
      ...(r.method === "REGISTER" ? ([["Expires", "300"]] as [string, string][]) : []),
    ];
    const sdp = `v=0\r\no=- 1 1 IN ${isIPv6(config.bind) ? "IP6" : "IP4"} ${config.bind}\r\ns=-\r\nc=IN ${isIPv6(config.bind) ? "IP6" : "IP4"} ${config.bind}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n`;
    const body = r.method === "INVITE" ? sdp : "";
    const withBody = (h: [string, string][]): [string, string][] =>
      body ? [...h, ["Content-Type", "application/sdp"]] : h;
    let branch = token();
    let response = await transact(target, build(first, withBody(base(branch)), body), `${callId} ${cseq} ${r.method}`);
    const ack = (m: Message) => {
      if (r.method !== "INVITE") return;
      const to = header(m, "to") ?? `<${r.to}>`;
      const h = base(branch).filter(([n]) => !["To", "CSeq", "Contact", "Expires"].includes(n));
      socket.send(build(`ACK ${r.uri} SIP/2.0`, [...h, ["To", to], ["CSeq", `${cseq} ACK`]]), target.port, target.host);
    };
    let status = Number(response.first.split(" ")[1]);
    if ((status === 401 || status === 407) && r.user !== undefined && r.password !== undefined) {
      ack(response);
      const challenge = digestParams(
        header(response, status === 401 ? "www-authenticate" : "proxy-authenticate") ?? "",
      );
      cseq++;
      branch = token();
      const cnonce = token();
      const value = `Digest username="${r.user}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${r.uri}", response="${digestResponse(challenge, r.user, r.password, r.method, r.uri, "00000001", cnonce)}", algorithm=MD5${challenge.qop ? `, qop=auth, nc=00000001, cnonce="${cnonce}"` : ""}`;
      const authHeader: [string, string] = [status === 401 ? "Authorization" : "Proxy-Authorization", value];
      response = await transact(
        target,
        build(first, withBody([...base(branch), authHeader]), body),
        `${callId} ${cseq} ${r.method}`,
      );
      status = Number(response.first.split(" ")[1]);
    }
    ack(response);
    emit({ event: "response", method: r.method, status, reason: response.first.split(" ").slice(2).join(" ") });
    return response;
  };

  if (config.register) {
    const { server, domain, user, password } = config.register;
    await request({
      method: "REGISTER",
      server,
      uri: `sip:${domain}`,
      from: `sip:${user}@${domain}`,
      to: `sip:${user}@${domain}`,
      user,
      password,
    });
  }
  if (config.request) {
    await request(config.request).catch((error: Error) => emit({ event: "error", message: error.message }));
    socket.close();
    return;
  }
  emit({ event: "ready", local });
}

function splitTarget(server: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server);
  if (!m) throw new Error(`target must be host:port, got ${server}`);
  return { host: m[1], port: Number(m[2]) };
}

// Only as a program (tsx sipPeer.ts '<json>'); importing the module for its types runs nothing.
if (process.argv[1]?.endsWith("sipPeer.ts") && process.argv[2]) {
  runPeer(JSON.parse(process.argv[2]) as PeerConfig).catch((error: Error) => {
    emit({ event: "error", message: error.message });
    process.exit(1);
  });
}
