/**
 * mod_xml_curl's endpoint, served by a node:http request listener placed ahead of fastify's
 * router (fastify's `serverFactory`). FreeSWITCH asks here on every profile scan and every
 * registration, and the target is a bare node:http server's CPU per request within 0.8× (`npm
 * run bench`). On the 2-core
 * CI machine fastify's per-request machinery (request/reply objects, hooks, body parser, child
 * logger) added ~35-50 µs CPU per request to the bare server's ~70 µs. What remains here is
 * the work the bare server skips, each kept to about a microsecond: the basic auth (a
 * constant-time compare with the header curl sends, no hashing: auth.ts), reading the form
 * (size-limited; kept as the one chunk it arrives in), decoding only the fields the directory
 * reads (formFields.ts, not URLSearchParams over all ~20), a map lookup into pre-rendered bytes,
 * and counting the answer for /metrics in plain numbers (routeTally.ts, not prom-client per request).
 * FreeSWITCH always gets a document: the answer, or the not-found document (also on 401).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BasicCredentials } from "./auth";
import { DIRECTORY_FIELDS, type DirectoryAnswers } from "./directory";
import { FormFieldPicker } from "./formFields";

export interface XmlCurlEndpointOptions {
  readonly path: string;
  readonly credentials: BasicCredentials;
  readonly directory: DirectoryAnswers;
  readonly bodyLimit: number;
  readonly log: () => { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /**
   * Told of every answer as it is handed to the socket: its status and the seconds since the
   * request's headers arrived. Called in line, not from a "finish" listener, which would cost a
   * closure and an event per request on this path.
   */
  readonly answered: (status: number, seconds: number) => void;
}

const XML = "text/xml; charset=utf-8";
const FORM = "application/x-www-form-urlencoded";
const EMPTY = Buffer.alloc(0);
const UNAUTHORIZED_HEADERS = { "www-authenticate": 'Basic realm="xml_curl"' };

/** Returns a listener that answers mod_xml_curl's requests and returns false for everything else. */
export function xmlCurlEndpoint(
  options: XmlCurlEndpointOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { path, credentials, directory, bodyLimit, log, answered } = options;
  const pathWithQuery = `${path}?`;
  const fields = new FormFieldPicker(DIRECTORY_FIELDS);

  const send = (
    res: ServerResponse,
    started: number,
    status: number,
    body: Buffer,
    headers?: Record<string, string>,
  ) => {
    res.writeHead(
      status,
      headers
        ? { "content-type": XML, "content-length": body.length, ...headers }
        : { "content-type": XML, "content-length": body.length },
    );
    res.end(body);
    answered(status, (performance.now() - started) / 1000);
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, started: number, status: 413 | 415, reason: string) => {
    const body = Buffer.from(JSON.stringify({ error: reason }));
    res.writeHead(status, { "content-type": "application/json", "content-length": body.length, connection: "close" });
    res.end(body);
    answered(status, (performance.now() - started) / 1000);
    // Stop reading whatever the client still sends.
    res.once("finish", () => req.destroy());
  };
  const answer = (body: Buffer): Buffer => {
    try {
      return directory.answer(fields.pick(body));
    } catch (error) {
      // Never a 500 to FreeSWITCH: it would log an error and fall back anyway; say not found.
      log().error({ err: (error as Error).message }, "xml_curl answer failed");
      return directory.notFound;
    }
  };

  return (req, res) => {
    const url = req.url ?? "";
    if (req.method !== "POST" || (url !== path && !url.startsWith(pathWithQuery))) return false;
    const started = performance.now();

    // Credentials before the body: an unauthenticated client gets nothing read or parsed.
    if (!credentials.accepts(req.headers.authorization)) {
      log().warn(
        { hasAuthorization: req.headers.authorization !== undefined },
        "xml_curl request with wrong or missing credentials",
      );
      req.resume();
      send(res, started, 401, directory.notFound, UNAUTHORIZED_HEADERS);
      return true;
    }
    const contentType = req.headers["content-type"] ?? "";
    // mod_xml_curl sends exactly FORM; anything else is normalised before it is judged.
    const mediaType = contentType === FORM ? FORM : contentType.split(";")[0].trim().toLowerCase();
    if (mediaType !== FORM) {
      refuse(req, res, started, 415, `mod_xml_curl posts ${FORM}; got ${mediaType || "no content type"}`);
      return true;
    }
    if (Number(req.headers["content-length"] ?? 0) > bodyLimit) {
      refuse(req, res, started, 413, `body over ${bodyLimit} bytes`);
      return true;
    }

    // A form this size nearly always arrives in one chunk: keep it as is, concatenate only more.
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > bodyLimit) {
        req.removeAllListeners("data");
        req.removeAllListeners("end");
        refuse(req, res, started, 413, `body over ${bodyLimit} bytes`);
      } else if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    });
    req.on("end", () => {
      send(res, started, 200, answer(more ? Buffer.concat(more, size) : (first ?? EMPTY)));
    });
    req.on("error", () => req.destroy());
    return true;
  };
}
