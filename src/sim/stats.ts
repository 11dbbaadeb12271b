import { createHash } from "node:crypto";
import type { FaultKind } from "./faults.ts";
import { SERVICES, type ServiceName } from "./services.ts";

export interface ServiceCounters {
  requests: number;
  /** Final status per request; 0 = no response (timeout, reset, client gave up). */
  byStatus: Record<number, number>;
  notModified: number;
}

export interface RequestLogEntry {
  at: number;
  method: string;
  service: ServiceName;
  /** Path and query as received. */
  path: string;
  /** null when no response was sent (timeout, reset, client abort before headers). */
  status: number | null;
  /** An Authorization header was present. */
  authenticated: boolean;
  /** The credential of the Authorization header as credentialFingerprint() gives it (never the token itself). */
  credential: string | null;
  /** The User-Agent header as received. */
  userAgent: string | null;
  durationMs: number;
  fault: FaultKind | null;
}

/**
 * What the request log keeps of a credential: `sha256:` and the first 16 hex digits of the hash of the token
 * (the part after `Bearer `/`token `, or the whole header value). Tests compare it to the token they configured.
 */
export function credentialFingerprint(authorization: string): string {
  const m = /^\s*(?:bearer|token|basic)\s+(.+?)\s*$/i.exec(authorization);
  const secret = m?.[1] ?? authorization.trim();
  return `sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 16)}`;
}

function emptyCounters(): Record<ServiceName, ServiceCounters> {
  return Object.fromEntries(SERVICES.map((s) => [s, { requests: 0, byStatus: {}, notModified: 0 }])) as Record<
    ServiceName,
    ServiceCounters
  >;
}

function zeros(): Record<ServiceName, number> {
  return Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<ServiceName, number>;
}

/** Request accounting for tests and benchmarks. */
export class SimStats {
  services: Record<ServiceName, ServiceCounters> = emptyCounters();
  /** Highest number of requests in flight at once, per service (since the last reset). */
  peakConcurrency: Record<ServiceName, number> = zeros();
  /** Authenticated GitHub API requests that spent rate limit (non-304, not `/rate_limit`, not faults). */
  githubBillable = 0;
  /** The last `logLimit` completed requests, oldest first. */
  readonly log: RequestLogEntry[] = [];
  readonly #inFlight: Record<ServiceName, number> = zeros();
  readonly #logLimit: number;

  constructor(logLimit = 1000) {
    this.#logLimit = logLimit;
  }

  inFlight(service: ServiceName): number {
    return this.#inFlight[service];
  }

  /** Total requests over every service. */
  total(): number {
    return SERVICES.reduce((n, s) => n + this.services[s].requests, 0);
  }

  begin(service: ServiceName): void {
    this.services[service].requests++;
    const now = ++this.#inFlight[service];
    if (now > this.peakConcurrency[service]) this.peakConcurrency[service] = now;
  }

  end(entry: RequestLogEntry): void {
    this.#inFlight[entry.service] = Math.max(0, this.#inFlight[entry.service] - 1);
    const counters = this.services[entry.service];
    const key = entry.status ?? 0;
    counters.byStatus[key] = (counters.byStatus[key] ?? 0) + 1;
    if (entry.status === 304) counters.notModified++;
    this.log.push(entry);
    if (this.log.length > this.#logLimit) this.log.splice(0, this.log.length - this.#logLimit);
  }

  billGithub(): void {
    this.githubBillable++;
  }

  reset(): void {
    this.services = emptyCounters();
    this.peakConcurrency = { ...this.#inFlight };
    this.githubBillable = 0;
    this.log.length = 0;
  }
}
