import { z } from "zod";
import type { Sink } from "../types.ts";
import type { SinkDefinition } from "./define.ts";
import type { SinkDeps } from "./deps.ts";
import { ergoSink } from "./ergo/ergo-sink.ts";
import { githubIssueSink } from "./github-issue/github-issue-sink.ts";
import { logSink } from "./log/log-sink.ts";
import { slackSink } from "./slack/slack-sink.ts";
import { webhookSink } from "./webhook/webhook-sink.ts";

export type { SinkDeps } from "./deps.ts";
export { defineSink, type SinkDefinition } from "./define.ts";

/**
 * Every sink, one line each: a new sink is one folder under alerts/sinks/ plus one line here. The config's
 * `settings.alerts.sinks[]` union, its secret registration and the factory lookup are all built from this list.
 */
export const SINKS = [slackSink, ergoSink, logSink, githubIssueSink, webhookSink] as const;

type Schemas<T extends readonly SinkDefinition[]> = { -readonly [K in keyof T]: T[K]["schema"] };

export const SinkConfig = z.discriminatedUnion("type", SINKS.map((d) => d.schema) as Schemas<typeof SINKS>);
export type SinkConfig = z.infer<typeof SinkConfig>;
export type SinkType = SinkConfig["type"];

/**
 * The definition of a parsed config entry. Typed loosely on purpose: TypeScript cannot correlate the entry's
 * `type` with the matching element of SINKS, and the union above guarantees the pairing.
 */
interface AnySinkDefinition {
  secrets(c: SinkConfig): readonly (string | null | undefined)[];
  create(c: SinkConfig, deps: SinkDeps): Sink;
  check?(c: SinkConfig, deps: Pick<SinkDeps, "baseDir">, at: string): string[];
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
 * Start-up checks of sinks whose config names something outside the file (ergo's repo_dir). Each issue starts
 * with the entry's path, `settings.alerts.sinks[<i>]…`; `watch` and `config check` refuse to start on any.
 */
export function sinkConfigIssues(configs: readonly SinkConfig[], baseDir: string): string[] {
  return configs.flatMap((c, i) => definitionOf(c).check?.(c, { baseDir }, `settings.alerts.sinks[${i}]`) ?? []);
}

/** Build the sink for one `settings.alerts.sinks[]` entry; its secrets are registered first. */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  for (const s of sinkSecrets(config)) deps.secrets.add(s);
  return definitionOf(config).create(config, deps);
}

/** Sinks may hold resources (HTTP agents); release them on shutdown. */
export async function closeSink(sink: Sink): Promise<void> {
  await sink.close?.();
}
