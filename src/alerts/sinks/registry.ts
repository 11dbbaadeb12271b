import { z } from "zod";
import { deliverItemByItem } from "../rollup.ts";
import type { Sink, SinkGroup } from "../types.ts";
import type { SinkDefinition } from "./define.ts";
import type { SinkCheckDeps, SinkDeps } from "./deps.ts";
import { SHARED_SINK_FIELDS } from "./fields.ts";
import { ergoSink } from "./ergo/ergo-sink.ts";
import { githubIssueSink } from "./github-issue/github-issue-sink.ts";
import { logSink } from "./log/log-sink.ts";
import { slackSink } from "./slack/slack-sink.ts";
import { webhookSink } from "./webhook/webhook-sink.ts";

export type { SinkCheckDeps, SinkDeps } from "./deps.ts";
export { defineSink, type SinkDefinition } from "./define.ts";

/**
 * Every sink, one line each: a new sink is one folder under alerts/sinks/ plus one line here. The config's
 * `settings.alerts.sinks[]` union, its secret registration and the factory lookup are all built from this list.
 */
export const SINKS = [slackSink, ergoSink, logSink, githubIssueSink, webhookSink] as const;

/** A sink's own schema plus the fields every sink entry has (fields.ts SHARED_SINK_FIELDS: `group`). */
type WithShared<S> =
  S extends z.ZodObject<infer Shape, infer Config>
    ? z.ZodObject<z.core.util.Extend<Shape, typeof SHARED_SINK_FIELDS>, Config>
    : never;
type Schemas<T extends readonly SinkDefinition[]> = { -readonly [K in keyof T]: WithShared<T[K]["schema"]> };

export const SinkConfig = z.discriminatedUnion(
  "type",
  SINKS.map((d) => d.schema.extend(SHARED_SINK_FIELDS)) as unknown as Schemas<typeof SINKS>,
);
export type SinkConfig = z.infer<typeof SinkConfig>;
export type SinkType = SinkConfig["type"];

/**
 * The definition of a parsed config entry. Typed loosely on purpose: TypeScript cannot correlate the entry's
 * `type` with the matching element of SINKS, and the union above guarantees the pairing.
 */
interface AnySinkDefinition {
  secrets(c: SinkConfig): readonly (string | null | undefined)[];
  create(c: SinkConfig, deps: SinkDeps): Sink;
  check?(c: SinkConfig, deps: SinkCheckDeps, at: string): string[];
}

function definitionOf(config: SinkConfig): AnySinkDefinition {
  const def: unknown = SINKS.find((d) => d.type === config.type);
  if (!def) throw new TypeError(`no sink definition for type ${config.type}`);
  return def as AnySinkDefinition;
}

/** Secret values of one sink config entry (config/load.ts registers them for every entry). */
export function sinkSecrets(config: SinkConfig): string[] {
  return definitionOf(config)
    .secrets(config)
    .filter((s): s is string => typeof s === "string" && s.length > 0);
}

/**
 * Start-up checks of what sinks need outside their own entry (ergo's repo_dir, github-issue's token). Each issue
 * starts with the entry's path, `settings.alerts.sinks[<i>]…`; `watch` and `config check` refuse to start on any.
 */
export function sinkConfigIssues(configs: readonly SinkConfig[], deps: SinkCheckDeps): string[] {
  return configs.flatMap((c, i) => definitionOf(c).check?.(c, deps, `settings.alerts.sinks[${i}]`) ?? []);
}

/**
 * Build the sink for one `settings.alerts.sinks[]` entry; its secrets are registered first. The result carries
 * the entry's `group`; a `group: release` sink that does not render rollups itself gets rolled-up messages one
 * incident at a time.
 */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  for (const s of sinkSecrets(config)) deps.secrets.add(s);
  return withGroup(definitionOf(config).create(config, deps), config.group);
}

function withGroup(sink: Sink, group: SinkGroup): Sink {
  const split = group === "release" && sink.rendersRollups !== true;
  const close = sink.close?.bind(sink);
  return {
    name: sink.name,
    type: sink.type,
    minIntervalMs: sink.minIntervalMs,
    group,
    ...(sink.rendersRollups === undefined ? {} : { rendersRollups: sink.rendersRollups }),
    deliver: split ? (m, ctx) => deliverItemByItem(sink, m, ctx) : sink.deliver.bind(sink),
    ...(close === undefined ? {} : { close }),
  };
}

/** Sinks may hold resources (HTTP agents); release them on shutdown. */
export async function closeSink(sink: Sink): Promise<void> {
  await sink.close?.();
}
