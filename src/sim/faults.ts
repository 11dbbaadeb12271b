import type { ServiceName } from "./services.ts";

export const FAULT_KINDS = [
  "401",
  "403",
  "500",
  "502",
  "503",
  "429",
  "403-ratelimit",
  "timeout",
  "reset",
  "truncated",
  "malformed-json",
  "html",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  service: ServiceName;
  /** A string matches the request path (without query) exactly or as a prefix; a RegExp is tested on path + query. */
  path?: string | RegExp;
  /**
   * - `401`: the credential is refused as the service does it (GitHub: `Bad credentials`), e.g. a revoked token.
   * - `403`: the credential lacks a permission (GitHub: `Resource not accessible by personal access token`).
   * - `500`/`502`/`503`: that status with the service's JSON error body.
   * - `429`, `403-ratelimit`: rate limiting as the service does it (GitHub: primary limit, or the secondary-limit
   *   variant with `Retry-After` when `retryAfterSec` is set).
   * - `timeout`: accept and never answer (until the sim closes). `reset`: destroy the socket.
   * - `truncated`: the real response with a Content-Length larger than the bytes sent, then close.
   * - `malformed-json`: 200, JSON content type, broken body. `html`: an HTML error page (502 text/html by default).
   */
  kind: FaultKind;
  /** How many matching requests it hits (default: all). */
  times?: number;
  retryAfterSec?: number;
  /** GitHub primary `403-ratelimit`: seconds until `x-ratelimit-reset` (default 3600). */
  resetAfterSec?: number;
  /** Status for `html` (502 or 503; default 502). */
  status?: 502 | 503;
  /** `html` only: serve the HTML with `Content-Type: application/json` (real GitHub capture, 503). */
  jsonContentType?: boolean;
}

export interface ActiveFault extends FaultSpec {
  readonly id: number;
  /** Requests it has hit so far. */
  hits: number;
  remaining: number;
}

export interface FaultHandle {
  readonly id: number;
  hits(): number;
  remove(): void;
}

/** Scripted failures, matched in insertion order; a fault is dropped once its `times` are used up. */
export class FaultSet {
  readonly #faults: ActiveFault[] = [];
  #nextId = 1;

  add(spec: FaultSpec): FaultHandle {
    const fault: ActiveFault = {
      ...spec,
      id: this.#nextId++,
      hits: 0,
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
    };
    if (!(fault.remaining > 0)) throw new Error("fault times must be positive");
    this.#faults.push(fault);
    return {
      id: fault.id,
      hits: () => fault.hits,
      remove: () => this.remove(fault.id),
    };
  }

  remove(id: number): void {
    const i = this.#faults.findIndex((f) => f.id === id);
    if (i >= 0) this.#faults.splice(i, 1);
  }

  clear(): void {
    this.#faults.length = 0;
  }

  list(): readonly ActiveFault[] {
    return this.#faults;
  }

  /** The fault this request runs into, if any (consumes one of its `times`). */
  take(service: ServiceName, pathname: string, search: string): ActiveFault | null {
    for (const fault of this.#faults) {
      if (fault.service !== service || !matches(fault.path, pathname, search)) continue;
      fault.hits++;
      fault.remaining--;
      if (fault.remaining <= 0) this.remove(fault.id);
      return fault;
    }
    return null;
  }
}

function matches(path: string | RegExp | undefined, pathname: string, search: string): boolean {
  if (path === undefined) return true;
  if (typeof path === "string") return pathname === path || pathname.startsWith(path);
  path.lastIndex = 0;
  return path.test(pathname + search);
}
