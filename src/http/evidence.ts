/** One HTTP exchange a verdict rests on. Part of report@1 (`evidence[]`). */
export interface Evidence {
  url: string;
  /** HTTP status, or null when no response arrived (timeout, connection error). */
  status: number | null;
  method: string;
  at: string;
  duration_ms: number;
  /** True when a 304 let us reuse the cached body. */
  revalidated?: boolean;
  /** Served from the local cache without any request (a time-to-live); how old the cached copy was. */
  cache_age_ms?: number;
  error?: string;
}
