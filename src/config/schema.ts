import { z } from "zod";
import type { Channel, ChannelSettings } from "../channels/channel.ts";
import { BUILTIN_CHANNELS } from "../channels/registry.ts";
import { boundedDuration } from "./duration.ts";
import { HttpUrl, PlatformId, RepoSlug } from "./primitives.ts";
import { ReleaseConfig } from "./release-schema.ts";
import { SinkConfig } from "../alerts/sinks/registry.ts";

/**
 * The monitor config file (YAML or JSON). Strict: an unknown key is an error naming its path.
 * `monitor config schema` prints the JSON Schema generated from these definitions; docs/config.md is generated
 * from it too (kept in sync by a test).
 */

/** Upper bounds: timers stay far below Node's 24.8-day limit; ages and retention get a sanity bound. */
const Grace = boundedDuration("30d");
const Spacing = boundedDuration("1h");
const Timeout = boundedDuration("24h");
const Age = boundedDuration("3650d");
const Host = z.string().regex(/^[A-Za-z0-9.-]+(:[0-9]+)?$/, "must be a host name, optionally with :port");

export const HostLimit = z.strictObject({
  concurrency: z.int().min(1).max(256).default(8),
  min_interval: Spacing.default("0"),
});

export const HttpConfig = z.strictObject({
  user_agent: z.string().min(1).optional().describe("Sent on every request; crates.io requires a descriptive one."),
  connect_timeout: Timeout.default("10s"),
  headers_timeout: Timeout.default("15s"),
  body_timeout: Timeout.default("30s"),
  request_timeout: Timeout.default("60s"),
  max_body_bytes: z
    .int()
    .min(1024)
    .default(20 * 1024 * 1024),
  max_download_bytes: z
    .int()
    .min(1024)
    .default(4 * 1024 ** 3)
    .describe("Cap on one artifact download under --deep (default 4 GiB); larger is unknown."),
  retries: z.int().min(0).max(10).default(3),
  max_retry_wait: Timeout.default("60s").describe("Longest Retry-After or rate-limit reset to sit out."),
  retry_base: Spacing.default("500ms"),
  host_concurrency: z.int().min(1).max(256).default(8).describe("Default concurrent requests per host."),
  host_limits: z.record(Host, HostLimit).default({}).describe("Per-host concurrency and minimum spacing."),
});

export const GithubEndpoint = z.strictObject({
  api_url: HttpUrl.default("https://api.github.com").describe("REST API base; set it for GitHub Enterprise Server."),
  token: z.string().optional().describe("API token; defaults to $GITHUB_TOKEN. Never logged."),
  download_hosts: z
    .array(Host)
    .default(["github.com", "release-assets.githubusercontent.com", "objects.githubusercontent.com"])
    .describe("Hosts asset downloads may redirect to."),
});

export const WatchConfig = z.strictObject({
  schedule: z.string().default("*/5 * * * *").describe("node-cron expression (5 or 6 fields)."),
  hot_interval: Timeout.default("1m").describe("Polling interval right after a new tag appears."),
  hot_for: Grace.default("6h").describe("How long the hot interval lasts after a new tag."),
  jitter: Spacing.default("10s").describe("Random delay added before each cycle."),
  cycle_timeout: Timeout.default("5m"),
  include_prereleases: z.boolean().default(false),
});

/** settings.watch: the per-project keys (project.watch overrides them) plus the process-wide ones. */
export const WatchSettings = WatchConfig.extend({
  max_concurrent_cycles: z
    .int()
    .min(1)
    .max(1000)
    .default(16)
    .describe(
      "Cycles the daemon runs at once, across all projects; the rest wait in a fair queue (first come, first served, one per project), so one cron tick for N projects never starts N at once.",
    ),
});

export const AlertsConfig = z.strictObject({
  flap_cycles: z
    .int()
    .min(1)
    .max(100)
    .default(2)
    .describe("Consecutive cycles a finding must persist before alerting."),
  remind_every: Grace.default("4h"),
  retry_base: Spacing.default("5s"),
  retry_max: Timeout.default("10m"),
  sinks: z.array(SinkConfig).default([]),
});

export const RetentionConfig = z
  .strictObject({
    history: Age.default("90d").describe("Channel status history, and channel rows of tags no longer watched."),
    resolved_incidents: Age.default("30d"),
    sent_alerts: Age.default("7d").describe("Delivered outbox rows."),
    dead_alerts: Age.default("30d").describe("Dead-lettered outbox rows, kept for inspection."),
    http_cache: Age.default("7d").describe("Cached HTTP validators not used for this long."),
    cycles: Age.default("14d").describe("Per-cycle records (time, duration, error)."),
    expired_silences: Age.default("7d"),
  })
  .describe("How long the daemon's state keeps things (pruned at startup and daily).");

export const ServerConfig = z.strictObject({
  listen: z.string().default("127.0.0.1:8080").describe("host:port for the status page, API and metrics."),
  token: z.string().optional().describe("Bearer token; required when not listening on loopback."),
  public_url: HttpUrl.optional().describe("Base URL put in alert links to the status page (default: http://<listen>)."),
  stale_after: Timeout.default("30m").describe("/readyz fails when the last cycle is older."),
  allowed_hosts: z
    .array(z.string().min(1))
    .default([])
    .describe(
      "Without a token: Host names (besides loopback addresses and localhost) the server answers; other Hosts get 421 (DNS rebinding guard). Ignored with a token.",
    ),
  manual_checks_per_minute: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(6)
    .describe(
      "Cycles per project per minute that POST /api/v1/projects/<name>/check may start; concurrent requests share one cycle, beyond the limit 429 with Retry-After.",
    ),
});

/** A PostgreSQL URL; the error names the field, never the value (it may hold a password). */
const PostgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/[^\s]+$/i.test(v) && URL.canParse(v), {
  message: "must be a postgres:// or postgresql:// URL (postgres://user:password@host:5432/db)",
  abort: true,
});

export const StateSettings = z
  .strictObject({
    url: PostgresUrl.optional().describe(
      "PostgreSQL state for HA (several `monitor watch` replicas share it, owning projects by lease); a secret, never logged. Unset: SQLite in state_dir.",
    ),
    lease_renew: Timeout.default("10s").describe("How often a replica renews its project leases (PostgreSQL only)."),
    lease_ttl: Timeout.default("30s").describe(
      "How long a lease outlives its last renewal, by the database's clock; a dead replica's projects move after it.",
    ),
  })
  .describe("Where the daemon's state lives: SQLite in state_dir (default) or PostgreSQL (settings.state.url).");

const ProvenanceLevel = z.enum(["required", "warn", "off"]);
const WorkflowPath = z
  .string()
  .regex(/^[A-Za-z0-9_./-]+\.ya?ml$/, "must be a workflow file such as .github/workflows/release.yml or release.yml");
const RefTemplate = z
  .string()
  .regex(/^refs\/(tags|heads)\/\S+$/, "must be a full ref such as refs/tags/{tag} or refs/heads/main");

export const ProvenanceSettings = z.strictObject({
  trusted_root: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Path of a Sigstore trusted_root.json (relative to the config file); default: the public-good root via TUF, cached in state_dir.",
    ),
  npm_keys: z
    .string()
    .min(1)
    .optional()
    .describe("Path of npm's registry keys.json TUF target, for publish attestations with a trusted_root file."),
  tuf_mirror: HttpUrl.optional().describe("TUF repository for the public-good root; default: the library's own."),
  mirror_absence: z
    .enum(["unknown", "drift"])
    .default("unknown")
    .describe(
      "npm registries other than npm's default that lack attestations: unknown (they may strip them) or drift.",
    ),
});

/* eslint-disable @typescript-eslint/no-explicit-any -- a registry holds channels of any config type */
type ChannelsShape<Cs extends readonly Channel[]> = {
  [C in Cs[number] as C["id"]]: z.ZodOptional<C["config"] extends z.ZodType<any> ? C["config"] : never>;
};
type SettingsShape<Cs extends readonly Channel[]> = {
  [
    C in Cs[number] as C extends Channel<any, any, any, any, any, infer B>
      ? [B] extends [never]
        ? never
        : C["id"]
      : never
  ]: C extends Channel<any, any, any, any, any, infer B> ? z.ZodDefault<z.ZodType<B>> : never;
};
/* eslint-enable @typescript-eslint/no-explicit-any */
type GraceShape<Cs extends readonly Channel[]> = { [C in Cs[number] as C["id"]]: z.ZodOptional<typeof Grace> };

/**
 * The config schemas over a list of channels: the per-project `channels` block and the `grace` maps are built from
 * each channel's own piece (src/channels/<id>/config.ts), in registry order.
 */
export function configSchemas<const Cs extends readonly Channel[]>(channels: Cs) {
  const graceShape = Object.fromEntries(channels.map((c) => [c.id, Grace.optional()])) as GraceShape<Cs>;
  const settingsShape = Object.fromEntries(
    channels.flatMap((c) => {
      const block: ChannelSettings | undefined = c.settings;
      return block ? [[c.id, block.schema.default(block.schema.parse({}))]] : [];
    }),
  ) as SettingsShape<Cs>;
  const channelsShape = Object.fromEntries(channels.map((c) => [c.id, c.config.optional()])) as ChannelsShape<Cs>;
  const GraceConfig = z
    .strictObject(graceShape)
    .describe("Propagation grace per channel, counted from the GitHub release's published_at.");
  const ChannelsConfig = z.strictObject(channelsShape);
  const ProvenancePolicyConfig = z
    .strictObject(
      Object.fromEntries(channels.map((c) => [c.id, ProvenanceLevel.default("warn")])) as {
        [C in Cs[number] as C["id"]]: z.ZodDefault<typeof ProvenanceLevel>;
      },
    )
    .describe("Per channel: required (findings drift), warn (findings are warnings), off (no provenance fetches).");
  const ProvenanceConfig = z
    .strictObject({
      repository: RepoSlug.optional().describe(
        "Repository the artefacts must be built in; default: the project's repo.",
      ),
      workflows: z
        .array(WorkflowPath)
        .min(1)
        .optional()
        .describe(
          "Workflow files allowed to build or publish; default: release.workflows build + publish when set, else release.yml and release-publish.yml.",
        ),
      commit: z
        .enum(["tag", "build-metadata"])
        .default("tag")
        .describe(
          "Expected commit: the tag's peeled commit, or build-metadata: source_sha of the build run's release metadata.",
        ),
      refs: z
        .array(RefTemplate)
        .min(1)
        .optional()
        .describe(
          "Refs a build or publish may run from, over {tag}; default refs/tags/{tag} plus refs/heads/<release.workflows.ref, else main>.",
        ),
      policy: ProvenancePolicyConfig.default(ProvenancePolicyConfig.parse({}) as never /* every key has a default */),
      trusted_publisher: z
        .strictObject({ npm: ProvenanceLevel.default("warn"), crates: ProvenanceLevel.default("warn") })
        .default({ npm: "warn", crates: "warn" })
        .describe("Whether npm's trustedPublisher / crates.io's trusted publishing is expected."),
      grace: Grace.default("10m").describe(
        "Attestations absent this long after published_at are pending, not findings.",
      ),
      crates_run: z
        .enum(["follow", "off"])
        .default("follow")
        .describe(
          "follow: crates.io trustpub_data.run_id is read from the GitHub Actions API (workflow path, head_sha) and checked.",
        ),
    })
    .describe("Expected build identity: who may build or publish each channel's artefacts, from which commit.");

  const ProjectConfig = z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be letters, digits, . _ -"),
    repo: RepoSlug,
    tag_prefix: z.string().default("v"),
    targets_manifest: z
      .string()
      .optional()
      .describe("Path in the repo of a plasmite-style release/targets.json, read at the tag."),
    platform_names: z
      .record(PlatformId, z.string().regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, . _ -"))
      .optional()
      .describe(
        "How the project's file names spell each platform id, e.g. darwin_amd64: Darwin_x86_64 (GoReleaser) or darwin_arm64: aarch64-apple-darwin (cargo-dist); {platform} (and {target}) render as this name.",
      ),
    grace: GraceConfig.optional(),
    channels: ChannelsConfig,
    watch: WatchConfig.partial().optional(),
    release: ReleaseConfig.optional(),
    provenance: ProvenanceConfig.optional(),
  });

  const SettingsConfig = z.strictObject({
    github: GithubEndpoint.default(GithubEndpoint.parse({})),
    ...settingsShape,
    http: HttpConfig.default(HttpConfig.parse({})),
    grace: GraceConfig.default({} as never /* every key is optional */),
    state_dir: z.string().default(".monitor-state"),
    state: StateSettings.default(StateSettings.parse({})),
    watch: WatchSettings.default(WatchSettings.parse({})),
    alerts: AlertsConfig.default(AlertsConfig.parse({})),
    server: ServerConfig.default(ServerConfig.parse({})),
    retention: RetentionConfig.default(RetentionConfig.parse({})),
    provenance: ProvenanceSettings.default(ProvenanceSettings.parse({})),
  });

  const MonitorConfig = z.strictObject({
    version: z.literal(1).default(1),
    settings: SettingsConfig.default(SettingsConfig.parse({}) as never /* every key has a default */),
    projects: z.array(ProjectConfig).min(1, "at least one project is required"),
  });

  return { GraceConfig, ChannelsConfig, ProvenanceConfig, ProjectConfig, SettingsConfig, MonitorConfig };
}

const builtin = configSchemas(BUILTIN_CHANNELS);
export const GraceConfig = builtin.GraceConfig;
export type GraceConfig = z.infer<typeof GraceConfig>;
export const ChannelsConfig = builtin.ChannelsConfig;
export const ProjectConfig = builtin.ProjectConfig;
export const ProvenanceConfig = builtin.ProvenanceConfig;
export type ProvenanceConfig = z.infer<typeof ProvenanceConfig>;
export const SettingsConfig = builtin.SettingsConfig;
export const MonitorConfig = builtin.MonitorConfig;
export type MonitorConfig = z.infer<typeof MonitorConfig>;
export type ProjectConfig = z.infer<typeof ProjectConfig>;
export type SettingsConfig = z.infer<typeof SettingsConfig>;

/** The JSON Schema of the config file; `channels` defaults to the built-ins (a test passes its own list). */
export function configJsonSchema(channels: readonly Channel[] = BUILTIN_CHANNELS): Record<string, unknown> {
  const schema = channels === BUILTIN_CHANNELS ? MonitorConfig : configSchemas(channels).MonitorConfig;
  return z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" });
}
