import { createHash } from "node:crypto";
import { request } from "node:http";

export const UA = "release-monitor-sim-tests (tests@example.invalid)";

export interface Got {
  status: number;
  headers: Headers;
  body: Buffer;
  text(): string;
  json<T>(): T;
}

/** GET without following redirects; sends a User-Agent unless `headers` overrides it. */
export async function get(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Got> {
  const res = await fetch(url, {
    headers: { "user-agent": UA, ...headers },
    redirect: "manual",
    ...(signal ? { signal } : {}),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body,
    text: () => body.toString("utf8"),
    json: <T>() => JSON.parse(body.toString("utf8")) as T,
  };
}

/** GET through node:http, which sends no User-Agent of its own. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Follow a redirect chain by hand, recording each hop's host; returns the final response. */
export async function follow(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ hops: { status: number; host: string }[]; final: Got }> {
  const hops: { status: number; host: string }[] = [];
  let current = url;
  let hdrs = headers;
  for (let i = 0; i < 5; i++) {
    const res = await get(current, hdrs);
    hops.push({ status: res.status, host: new URL(current).host });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) return { hops, final: res };
    const next = new URL(location, current);
    if (next.host !== new URL(current).host) {
      hdrs = Object.fromEntries(Object.entries(hdrs).filter(([k]) => k.toLowerCase() !== "authorization"));
    }
    current = next.toString();
  }
  throw new Error("too many redirects");
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A clock tests can move. */
export function manualClock(start = Date.parse("2026-11-22T12:00:00Z")): {
  now: () => number;
  advance(ms: number): void;
} {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}
