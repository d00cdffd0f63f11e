/**
 * mod_xml_curl's endpoint, served by a node:http request listener placed ahead of fastify's
 * router (fastify's `serverFactory`). FreeSWITCH asks here on every profile scan and every
 * registration, and the target is 0.8× the requests/s of a bare node:http server. On the 2-core
 * CI machine fastify's per-request machinery (request/reply objects, hooks, body parser, child
 * logger) added ~35-50 µs CPU per request to the bare server's ~70 µs. What remains here is
 * the work the bare server skips: check the basic auth, read and parse the form (size-limited),
 * look up the pre-rendered answer (~100 µs in total, about the same as a bare node:http
 * server doing just that).
 * FreeSWITCH always gets a document: the answer, or the not-found document (also on 401).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BasicCredentials } from "./auth";
import type { DirectoryAnswers } from "./directory";

export interface XmlCurlEndpointOptions {
  readonly path: string;
  readonly credentials: BasicCredentials;
  readonly directory: DirectoryAnswers;
  readonly bodyLimit: number;
  readonly log: () => { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const XML = "text/xml; charset=utf-8";
const FORM = "application/x-www-form-urlencoded";

/** Returns a listener that answers mod_xml_curl's requests and returns false for everything else. */
export function xmlCurlEndpoint(options: XmlCurlEndpointOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { path, credentials, directory, bodyLimit, log } = options;

  const send = (res: ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": XML, "content-length": body.length, ...headers });
    res.end(body);
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, status: 413 | 415, reason: string) => {
    const body = Buffer.from(JSON.stringify({ error: reason }));
    res.writeHead(status, { "content-type": "application/json", "content-length": body.length, connection: "close" });
    res.end(body);
    // Stop reading whatever the client still sends.
    res.once("finish", () => req.destroy());
  };

  return (req, res) => {
    const url = req.url ?? "";
    if (req.method !== "POST" || (url !== path && !url.startsWith(`${path}?`))) return false;

    // Credentials before the body: an unauthenticated client gets nothing read or parsed.
    if (!credentials.accepts(req.headers.authorization)) {
      log().warn({ hasAuthorization: req.headers.authorization !== undefined }, "xml_curl request with wrong or missing credentials");
      req.resume();
      send(res, 401, directory.notFound, { "www-authenticate": 'Basic realm="xml_curl"' });
      return true;
    }
    const mediaType = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (mediaType !== FORM) {
      refuse(req, res, 415, `mod_xml_curl posts ${FORM}; got ${mediaType || "no content type"}`);
      return true;
    }
    if (Number(req.headers["content-length"] ?? 0) > bodyLimit) {
      refuse(req, res, 413, `body over ${bodyLimit} bytes`);
      return true;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > bodyLimit) {
        req.removeAllListeners("data");
        req.removeAllListeners("end");
        refuse(req, res, 413, `body over ${bodyLimit} bytes`);
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      let answer: Buffer = directory.notFound;
      try {
        answer = directory.answer(new URLSearchParams(Buffer.concat(chunks, size).toString("utf8")));
      } catch (error) {
        // Never a 500 to FreeSWITCH: it would log an error and fall back anyway; say not found.
        log().error({ err: (error as Error).message }, "xml_curl answer failed");
      }
      send(res, 200, answer);
    });
    req.on("error", () => req.destroy());
    return true;
  };
}
