/**
 * Records FreeSWITCH events exactly as the event socket sends them: connects to ESL (argv: host,
 * port, password, then the event names to subscribe, e.g. "CUSTOM sofia::gateway_state"), and
 * prints each text/event-plain body, verbatim, as one JSON string per line on stdout. Run inside
 * the server's network namespace (eslEvents.ts); a test keeps the lines as fixtures.
 */
import { connect } from "node:net";

const [host, port, password, ...events] = process.argv.slice(2);
const socket = connect(Number(port), host);
let buffer = Buffer.alloc(0);

socket.on("data", (chunk: Buffer) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf("\n\n");
    if (end < 0) return;
    const headers = Object.fromEntries(
      buffer
        .subarray(0, end)
        .toString("utf8")
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
    );
    const length = Number(headers["Content-Length"] ?? 0);
    if (buffer.length < end + 2 + length) return;
    const body = buffer.subarray(end + 2, end + 2 + length).toString("utf8");
    buffer = buffer.subarray(end + 2 + length);
    const type = headers["Content-Type"];
    if (type === "auth/request") socket.write(`auth ${password}\n\n`);
    else if (type === "command/reply" && /^\+OK accepted/.test(headers["Reply-Text"] ?? "")) {
      socket.write(`event plain ${events.join(" ")}\n\n`);
    } else if (type === "command/reply" && /^\+OK event listener/.test(headers["Reply-Text"] ?? "")) {
      process.stdout.write(JSON.stringify({ ready: true }) + "\n");
    } else if (type === "command/reply") {
      process.stderr.write(`ESL refused: ${headers["Reply-Text"]}\n`);
      process.exit(1);
    } else if (type === "text/event-plain") process.stdout.write(JSON.stringify(body) + "\n");
  }
});
socket.on("error", (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
