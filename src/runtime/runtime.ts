import { parseDuration } from "../config/duration.ts";
import { channelHostLimits, DEFAULT_REGISTRY, probeEndpoints, type ChannelRegistry } from "../channels/registry.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { quote } from "../quote.ts";
import {
  createHttpClient,
  type ExchangeEvent,
  type HttpClient,
  type HttpSettings,
  type ValidatorCache,
} from "../http/client.ts";
import { githubClientFactory, type GithubClientFactory } from "../http/github.ts";
import { createLogger, type Logger } from "../log.ts";
import { isSafeTag } from "../plan/build-plan.ts";
import type { ProbeEndpoints } from "../probes/types.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import type { ProvenanceRuntime } from "../provenance/run.ts";
import { createProvenanceRuntime } from "./provenance.ts";

/** Everything a command needs at run time, built once from the loaded config. */
export interface Runtime {
  loaded: LoadedConfig;
  log: Logger;
  http: HttpClient;
  github: GithubClientFactory;
  endpoints: ProbeEndpoints;
  now: () => Date;
  /** Provenance checks (trusted root loaded on first use). */
  provenance: ProvenanceRuntime;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logLevel?: string;
  cache?: ValidatorCache;
  onExchange?: (e: ExchangeEvent) => void;
  logDestination?: { write(line: string): void };
  /** Where attestation results are kept between cycles (the daemon's state store). */
  attestationCache?: AttestationCache;
  /** The channels whose endpoints are built (default: the built-ins). */
  registry?: ChannelRegistry;
}

const ms = (text: string): number => parseDuration(text) ?? 0;

export function httpSettingsFrom(loaded: LoadedConfig, registry: ChannelRegistry = DEFAULT_REGISTRY): HttpSettings {
  const h = loaded.config.settings.http;
  // Limits a channel's registry imposes (crates.io: one API request per second) unless settings.http overrides them.
  const hostLimits: HttpSettings["host_limits"] = channelHostLimits(registry, loaded.config.settings);
  for (const [host, limit] of Object.entries(h.host_limits)) {
    hostLimits[host] = { concurrency: limit.concurrency, min_interval_ms: ms(limit.min_interval) };
  }
  return {
    user_agent: h.user_agent ?? "release-monitor/0.1 (release verification; +https://github.com/release-monitor)",
    connect_timeout_ms: ms(h.connect_timeout),
    headers_timeout_ms: ms(h.headers_timeout),
    body_timeout_ms: ms(h.body_timeout),
    request_timeout_ms: ms(h.request_timeout),
    max_body_bytes: h.max_body_bytes,
    max_download_bytes: h.max_download_bytes,
    retries: h.retries,
    max_retry_wait_ms: ms(h.max_retry_wait),
    retry_base_ms: ms(h.retry_base),
    default_host_concurrency: h.host_concurrency,
    host_limits: hostLimits,
  };
}

export function createRuntime(loaded: LoadedConfig, options: RuntimeOptions = {}): Runtime {
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const settings = httpSettingsFrom(loaded, registry);
  const log = createLogger({
    secrets: loaded.secrets,
    ...(options.logLevel ? { level: options.logLevel } : {}),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const http = createHttpClient({
    settings,
    secrets: loaded.secrets,
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
  });
  const s = loaded.config.settings;
  return {
    loaded,
    log,
    http,
    github: githubClientFactory({
      api_url: s.github.api_url,
      token: loaded.githubToken,
      user_agent: settings.user_agent,
    }),
    endpoints: probeEndpoints(registry, s, loaded),
    now: () => new Date(),
    provenance: createProvenanceRuntime(loaded, http, log, {
      githubApi: s.github.api_url.replace(/\/+$/, ""),
      ...(options.attestationCache ? { cache: options.attestationCache } : {}),
    }),
    close: () => http.close(),
  };
}

/** Picks the project a command is about: --project, or the only one in the file. */
export function selectProject(loaded: LoadedConfig, name: string | undefined): ProjectConfig {
  const projects = loaded.config.projects;
  if (name !== undefined) {
    const p = projects.find((x) => x.name === name);
    if (!p)
      throw new UsageError(
        `--project: no project named ${quote(name)} in ${loaded.source} (have: ${projects.map((x) => x.name).join(", ")})`,
      );
    return p;
  }
  if (projects.length === 1 && projects[0]) return projects[0];
  throw new UsageError(
    `--project is required: ${loaded.source} defines ${projects.length} projects (${projects.map((x) => x.name).join(", ")})`,
  );
}

/** Validates a tag argument; a bare version gets the project's tag prefix. */
export function normalizeTag(project: ProjectConfig, input: string): string {
  if (!isSafeTag(input)) {
    throw new UsageError(
      `tag: ${quote(input)} is not a valid release tag (letters, digits, . _ + - only; e.g. v0.8.0)`,
    );
  }
  if (project.tag_prefix && !input.startsWith(project.tag_prefix) && /^[0-9]/.test(input))
    return `${project.tag_prefix}${input}`;
  return input;
}
