/**
 * Fake Slack incoming webhook on loopback, answering like the real one (registry-contracts.md §6,
 * shared/fixtures/slack/): 200 plain-text `ok`; plain-text error codes with content-type text/html.
 *
 * Usage
 * -----
 *   const slack = await startFakeSlack();                 // mode "ok"
 *   sinkConfig.webhook_url = slack.url;                   // http://127.0.0.1:<port>/services/T…/B…/<secret>
 *   ... deliver ...
 *   slack.received                                        // every request to the webhook path, in order:
 *                                                         //   { at (epoch ms), hr (performance.now()), mode, status,
 *                                                         //     body (parsed JSON or null), raw, headers }
 *   slack.setMode("ratelimit");                           // switch behaviour at run time
 *   slack.redirectTarget.received                         // requests that reached the 302 target (should stay empty)
 *   await slack.close();
 *
 * Modes: "ok" (200 ok) | "down" (500 rollup_error) | "reset" (connection reset, no answer) | "ratelimit" (429 +
 * Retry-After: <retryAfterSeconds, default 1>) | "archived" (410 channel_is_archived) | "redirect" (302 to a second
 * loopback server, `redirectTarget`) | "no_service" (404 no_service) | "hang" (never answers) |
 * { status, body, headers? } for any other answer (e.g. { status: 403, body: "invalid_token" }).
 * A POST to any other path gets Slack's answer to a wrong webhook URL: 302 to the redirect target.
 * `hr` arrival times share the test process's performance.now() clock (for pacing assertions).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";

export type FakeSlackMode =
  | "ok"
  | "down"
  | "reset"
  | "ratelimit"
  | "archived"
  | "redirect"
  | "no_service"
  | "hang"
  | { status: number; body: string; headers?: Record<string, string> };

export interface FakeSlackRequest {
  at: number;
  hr: number;
  path: string;
  mode: string;
  status: number | null;
  body: unknown;
  raw: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeSlack {
  /** The webhook URL (its path holds a random secret-looking token). */
  url: string;
  /** Requests to the webhook path. */
  received: FakeSlackRequest[];
  /** Requests to other paths on this server. */
  strays: FakeSlackRequest[];
  redirectTarget: { url: string; received: FakeSlackRequest[] };
  mode(): FakeSlackMode;
  setMode(mode: FakeSlackMode): void;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  mode?: FakeSlackMode;
  retryAfterSeconds?: number;
}

interface Listening {
  server: Server;
  url: string;
  sockets: Set<Socket>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, sockets };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function record(req: IncomingMessage, raw: string, mode: string, status: number | null): FakeSlackRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = null;
  }
  return { at: Date.now(), hr: performance.now(), path: req.url ?? "", mode, status, body, raw, headers: req.headers };
}

const TEXT = { "content-type": "text/html" };

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  let mode: FakeSlackMode = options.mode ?? "ok";
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const received: FakeSlackRequest[] = [];
  const strays: FakeSlackRequest[] = [];
  const targetReceived: FakeSlackRequest[] = [];
  const token = randomBytes(12).toString("hex");
  const path = `/services/T0FAKE${token.slice(0, 4).toUpperCase()}/B0FAKE${token.slice(4, 8).toUpperCase()}/${token}`;

  const target = await listen((req, res) => {
    void readBody(req).then((raw) => {
      targetReceived.push(record(req, raw, "redirect-target", 200));
      res.writeHead(200, TEXT).end("<html>api.slack.com</html>");
    });
  });

  const main = await listen((req, res) => {
    // Record arrival before the body is read, so `hr` is when the request reached the server.
    const arrivedAt = Date.now();
    const arrivedHr = performance.now();
    void readBody(req).then((raw) => {
      const label = typeof mode === "string" ? mode : `custom:${mode.status}`;
      const answer = (status: number | null, send: () => void) => {
        const rec = { ...record(req, raw, label, status), at: arrivedAt, hr: arrivedHr };
        if ((req.url ?? "") === path) received.push(rec);
        else strays.push(rec);
        send();
      };
      if ((req.url ?? "") !== path) {
        answer(302, () => res.writeHead(302, { location: `${target.url}/`, ...TEXT }).end());
        return;
      }
      const m = mode;
      if (typeof m === "object") {
        answer(m.status, () => res.writeHead(m.status, { ...TEXT, ...(m.headers ?? {}) }).end(m.body));
        return;
      }
      switch (m) {
        case "ok":
          answer(200, () => res.writeHead(200, TEXT).end("ok"));
          return;
        case "down":
          answer(500, () => res.writeHead(500, TEXT).end("rollup_error"));
          return;
        case "reset":
          answer(null, () => req.socket.destroy());
          return;
        case "ratelimit":
          answer(429, () => res.writeHead(429, { ...TEXT, "retry-after": retryAfter }).end("rate_limited"));
          return;
        case "archived":
          answer(410, () => res.writeHead(410, TEXT).end("channel_is_archived"));
          return;
        case "redirect":
          answer(302, () => res.writeHead(302, { location: `${target.url}/`, ...TEXT }).end());
          return;
        case "no_service":
          answer(404, () => res.writeHead(404, TEXT).end("no_service"));
          return;
        case "hang":
          answer(null, () => undefined);
          return;
      }
    });
  });

  const closeOne = (l: Listening) =>
    new Promise<void>((resolve) => {
      for (const s of l.sockets) s.destroy();
      l.server.close(() => resolve());
    });

  return {
    url: `${main.url}${path}`,
    received,
    strays,
    redirectTarget: { url: `${target.url}/`, received: targetReceived },
    mode: () => mode,
    setMode(next: FakeSlackMode) {
      mode = next;
    },
    async close() {
      await Promise.all([closeOne(main), closeOne(target)]);
    },
  };
}
