/** A webhook on loopback that records what the config API posts to it (alerts). */
import { createServer, type IncomingMessage } from "node:http";

export interface WebhookReceiver<T> {
  /** The URL the API is given (alerts.webhook). */
  readonly url: string;
  /** Every post so far, in order: its headers and its JSON body. */
  readonly received: { headers: IncomingMessage["headers"]; body: T }[];
  close(): Promise<void>;
}

export async function startWebhookReceiver<T>(): Promise<WebhookReceiver<T>> {
  const received: WebhookReceiver<T>["received"] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as T });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/telephony`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
