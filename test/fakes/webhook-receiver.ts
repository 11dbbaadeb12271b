/**
 * A webhook receiver on loopback (node:http on 127.0.0.1:0) that keeps every request's raw body bytes, so tests
 * verify the HMAC signature exactly as a real receiver would.
 *
 *   const rx = await startWebhookReceiver();       // answers 200 by default
 *   rx.script(500, "hang");                        // next answers: a 500, then no answer at all; then 200 again
 *   rx.url                                         // http://127.0.0.1:<port>/hooks/<random token>
 *   rx.received                                    // { path, headers, raw (Buffer), body (parsed JSON), status }
 *   await rx.close();
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ReceiverAnswer = number | "hang";

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: unknown;
  /** The status answered; null for "hang". */
  status: number | null;
}

export interface WebhookReceiver {
  url: string;
  /** The secret-looking token in the URL path. */
  token: string;
  received: ReceivedRequest[];
  script(...answers: ReceiverAnswer[]): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const token = `tok_${randomBytes(12).toString("hex")}`;
  const received: ReceivedRequest[] = [];
  const queue: ReceiverAnswer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = null;
      }
      const answer = queue.shift() ?? 200;
      received.push({
        path: req.url ?? "",
        headers: req.headers,
        raw,
        body,
        status: answer === "hang" ? null : answer,
      });
      if (answer === "hang") return;
      res.writeHead(answer, { "content-type": "text/plain" });
      res.end(answer < 300 ? "ok" : "nope");
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/${token}`,
    token,
    received,
    script: (...answers) => queue.push(...answers),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
