/**
 * A phone on SIP over TLS for the real-FreeSWITCH suite, run in a test network namespace:
 *   tsx test/support/tlsPhone.ts '<TlsPhoneConfig as JSON>'
 * One TLS connection for everything (as phones keep theirs): it REGISTERs (digest), calls `callee`
 * (digest), ACKs the 200 and holds the call. Lines on stdin drive it afterwards: `check` reports
 * whether the connection is still the one it opened, `hangup` sends the BYE on it. Every step is one
 * JSON line on stdout: connected (local port, the certificate served), registered, answered, alive,
 * hung-up, and, unasked, bye-received (FreeSWITCH ended the call) and closed (the connection went).
 * Requests from FreeSWITCH (OPTIONS, NOTIFY, BYE) are answered 200.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect, type TLSSocket } from "node:tls";
import { PROJECT_DIR } from "./environment";
import { stopProcessGroup } from "./exec";
import { waitFor } from "./waitFor";

export interface TlsPhoneConfig {
  /** FreeSWITCH's TLS listener. */
  readonly host: string;
  readonly port: number;
  /** The phone's own address to connect from. */
  readonly bind: string;
  readonly domain: string;
  readonly user: string;
  readonly password: string;
  /** The number to call once registered. */
  readonly callee: string;
}

export type TlsPhoneLine =
  | { event: "connected"; localPort: number; serial: string }
  | { event: "registered"; status: number }
  | { event: "answered"; status: number }
  | { event: "alive"; localPort: number; open: boolean }
  | { event: "hung-up"; status: number }
  | { event: "bye-received" }
  | { event: "closed" }
  | { event: "error"; message: string };

interface Message {
  readonly first: string;
  readonly headers: [string, string][];
  readonly body: string;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const token = () => randomBytes(6).toString("hex");
const emit = (line: TlsPhoneLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
const header = (m: Message, name: string) => m.headers.find(([n]) => n === name)?.[1];
const all = (m: Message, name: string) => m.headers.filter(([n]) => n === name).map(([, v]) => v);
const statusOf = (m: Message) => Number(m.first.split(" ")[1]);

function build(first: string, headers: [string, string][], body = ""): string {
  return `${first}\r\n${[...headers, ["Content-Length", String(Buffer.byteLength(body))]].map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n${body}`;
}

function digestParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of value.replace(/^Digest\s+/i, "").matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g))
    out[match[1].toLowerCase()] = match[3] ?? match[2];
  return out;
}

/** Splits a TCP stream into SIP messages by Content-Length. */
function framer(onMessage: (m: Message) => void): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      // Keep-alive CRLFs between messages.
      while (buffer.length >= 2 && buffer[0] === 13 && buffer[1] === 10) buffer = buffer.subarray(2);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString("utf8");
      const length = Number(/\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(`\r\n${head}`)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const [first, ...lines] = head.split("\r\n");
      const headers: [string, string][] = [];
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
      }
      onMessage({ first, headers, body: buffer.subarray(end + 4, end + 4 + length).toString("utf8") });
      buffer = buffer.subarray(end + 4 + length);
    }
  };
}

export async function runTlsPhone(config: TlsPhoneConfig): Promise<void> {
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    // The certificate is what is under test, not trusted here: the test reads its serial.
    const tcp = createConnection({ host: config.host, port: config.port, localAddress: config.bind });
    const s = connect({ socket: tcp, rejectUnauthorized: false }, () => resolve(s));
    s.once("error", reject);
  });
  const localPort = socket.localPort ?? 0;
  emit({ event: "connected", localPort, serial: socket.getPeerCertificate().serialNumber ?? "" });
  let open = true;
  socket.on("close", () => {
    open = false;
    emit({ event: "closed" });
  });
  socket.on("error", (error) => emit({ event: "error", message: error.message }));

  const local = `${config.bind}:${localPort}`;
  const contact = `<sip:${config.user}@${local};transport=tls>`;
  const waiting = new Map<string, (m: Message) => void>();

  const reply = (req: Message, status: number, reason: string) => {
    const headers: [string, string][] = [
      ...all(req, "via").map((v): [string, string] => ["Via", v]),
      ["From", header(req, "from") ?? ""],
      ["To", header(req, "to") ?? ""],
      ["Call-ID", header(req, "call-id") ?? ""],
      ["CSeq", header(req, "cseq") ?? ""],
    ];
    socket.write(build(`SIP/2.0 ${status} ${reason}`, headers));
  };

  socket.on(
    "data",
    framer((m) => {
      if (!m.first.startsWith("SIP/2.0 ")) {
        const method = m.first.split(" ")[0];
        if (method === "BYE") emit({ event: "bye-received" });
        if (method !== "ACK") reply(m, 200, "OK");
        return;
      }
      if (statusOf(m) < 200) return;
      const key = `${header(m, "call-id")} ${header(m, "cseq")}`;
      waiting.get(key)?.(m);
    }),
  );

  /** Sends a request on the connection and resolves with its final response (TLS: no retransmission). */
  const transact = (text: string, key: string) =>
    new Promise<Message>((resolve) => {
      waiting.set(key, (m) => {
        waiting.delete(key);
        resolve(m);
      });
      socket.write(text);
    });

  /** A request in a call (or the registration), answering one digest challenge. */
  const request = async (
    method: "REGISTER" | "INVITE",
    uri: string,
    to: string,
    callId: string,
    fromTag: string,
    body = "",
  ) => {
    let cseq = 1;
    const base = (): [string, string][] => [
      ["Via", `SIP/2.0/TLS ${local};branch=z9hG4bK${token()};rport`],
      ["Max-Forwards", "70"],
      ["From", `<sip:${config.user}@${config.domain}>;tag=${fromTag}`],
      ["To", `<${to}>`],
      ["Call-ID", callId],
      ["CSeq", `${cseq} ${method}`],
      ["Contact", contact],
      ["User-Agent", "fssip-tls-phone"],
      ...(method === "REGISTER"
        ? ([["Expires", "3600"]] as [string, string][])
        : ([["Content-Type", "application/sdp"]] as [string, string][])),
    ];
    let response = await transact(build(`${method} ${uri} SIP/2.0`, base(), body), `${callId} ${cseq} ${method}`);
    const status = statusOf(response);
    if (status === 401 || status === 407) {
      if (method === "INVITE") ack(response, uri, cseq);
      const challenge = digestParams(
        header(response, status === 401 ? "www-authenticate" : "proxy-authenticate") ?? "",
      );
      cseq++;
      const cnonce = token();
      const ha1 = md5(`${config.user}:${challenge.realm}:${config.password}`);
      const ha2 = md5(`${method}:${uri}`);
      const digest = challenge.qop
        ? md5(`${ha1}:${challenge.nonce}:00000001:${cnonce}:auth:${ha2}`)
        : md5(`${ha1}:${challenge.nonce}:${ha2}`);
      const value = `Digest username="${config.user}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", response="${digest}", algorithm=MD5${challenge.qop ? `, qop=auth, nc=00000001, cnonce="${cnonce}"` : ""}`;
      response = await transact(
        build(
          `${method} ${uri} SIP/2.0`,
          [...base(), [status === 401 ? "Authorization" : "Proxy-Authorization", value]],
          body,
        ),
        `${callId} ${cseq} ${method}`,
      );
    }
    return { response, cseq };
  };

  const ack = (response: Message, uri: string, cseq: number) =>
    socket.write(
      build(`ACK ${uri} SIP/2.0`, [
        ["Via", `SIP/2.0/TLS ${local};branch=z9hG4bK${token()};rport`],
        ["Max-Forwards", "70"],
        ["From", header(response, "from") ?? ""],
        ["To", header(response, "to") ?? ""],
        ["Call-ID", header(response, "call-id") ?? ""],
        ["CSeq", `${cseq} ACK`],
      ]),
    );

  const registered = await request(
    "REGISTER",
    `sip:${config.domain}`,
    `sip:${config.user}@${config.domain}`,
    `${token()}@${config.bind}`,
    token(),
  );
  emit({ event: "registered", status: statusOf(registered.response) });
  if (statusOf(registered.response) !== 200) return void socket.end();

  const sdp = `v=0\r\no=- 1 1 IN IP4 ${config.bind}\r\ns=-\r\nc=IN IP4 ${config.bind}\r\nt=0 0\r\nm=audio 16000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n`;
  const callUri = `sip:${config.callee}@${config.domain}`;
  const callId = `${token()}@${config.bind}`;
  const fromTag = token();
  const call = await request("INVITE", callUri, callUri, callId, fromTag, sdp);
  ack(call.response, /<([^>]+)>/.exec(header(call.response, "contact") ?? "")?.[1] ?? callUri, call.cseq);
  emit({ event: "answered", status: statusOf(call.response) });

  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "check") emit({ event: "alive", localPort: socket.localPort ?? 0, open });
    if (line === "hangup") {
      const target = /<([^>]+)>/.exec(header(call.response, "contact") ?? "")?.[1] ?? callUri;
      const cseq = call.cseq + 1;
      void transact(
        build(`BYE ${target} SIP/2.0`, [
          ["Via", `SIP/2.0/TLS ${local};branch=z9hG4bK${token()};rport`],
          ["Max-Forwards", "70"],
          ["From", header(call.response, "from") ?? ""],
          ["To", header(call.response, "to") ?? ""],
          ["Call-ID", callId],
          ["CSeq", `${cseq} BYE`],
        ]),
        `${callId} ${cseq} BYE`,
      ).then((m) => emit({ event: "hung-up", status: statusOf(m) }));
    }
    if (line === "quit") socket.end();
  });
}

// Only as a program (tsx tlsPhone.ts '<json>'); importing the module for its types runs nothing.
if (process.argv[1]?.endsWith("tlsPhone.ts") && process.argv[2]) {
  runTlsPhone(JSON.parse(process.argv[2]) as TlsPhoneConfig).catch((error: Error) => {
    emit({ event: "error", message: error.message });
    process.exit(1);
  });
}

/** The phone as the test drives it: its JSON lines so far, a line to it, and its end. */
export interface RunningTlsPhone {
  readonly lines: TlsPhoneLine[];
  send(command: "check" | "hangup" | "quit"): void;
  /** Resolves with the first line `accept` takes (already printed, or printed within timeoutMs). */
  waitFor<T extends TlsPhoneLine>(what: string, accept: (l: TlsPhoneLine) => l is T, timeoutMs?: number): Promise<T>;
  stop(): void;
}

/** Starts the phone in a network namespace (`ip netns exec`), in its own process group. */
export function startTlsPhone(netns: string, config: TlsPhoneConfig): RunningTlsPhone {
  const tsx = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
  const child = spawn("ip", ["netns", "exec", netns, tsx, __filename, JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  const lines: TlsPhoneLine[] = [];
  let stderr = "";
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
    if (line.trim()) lines.push(JSON.parse(line) as TlsPhoneLine);
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  return {
    lines,
    send: (command) => child.stdin.write(`${command}\n`),
    waitFor: (what, accept, timeoutMs = 30_000) =>
      waitFor(what, timeoutMs, async () => {
        const found = lines.find(accept);
        if (!found && child.exitCode !== null)
          throw new Error(`the TLS phone exited ${child.exitCode}: ${JSON.stringify(lines)} ${stderr}`);
        return found;
      }),
    stop: () => stopProcessGroup(child),
  };
}
