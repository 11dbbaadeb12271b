import type { SinkConfig } from "../../config/schema.ts";
import type { Sink } from "../types.ts";
import type { SinkDeps } from "./deps.ts";
import { createErgoSink, ergoSinkIssues } from "./ergo/ergo-sink.ts";
import { createGithubIssueSink } from "./github-issue/github-issue-sink.ts";
import { createLogSink } from "./log/log-sink.ts";
import { createSlackSink } from "./slack/slack-sink.ts";

export type { SinkDeps } from "./deps.ts";

export type SinkType = SinkConfig["type"];
export type SinkFactory<T extends SinkType> = (config: Extract<SinkConfig, { type: T }>, deps: SinkDeps) => Sink;

/** One line per sink type: a new sink is one folder under alerts/sinks/ plus one line here. */
export const SINK_FACTORIES = {
  slack: createSlackSink,
  ergo: createErgoSink,
  log: createLogSink,
  "github-issue": createGithubIssueSink,
} satisfies { [T in SinkType]: SinkFactory<T> };

/**
 * Start-up checks of sinks whose config names something outside the file (ergo's repo_dir). Each issue starts
 * with the entry's path, `settings.alerts.sinks[<i>]…`; `watch` and `config check` refuse to start on any.
 */
export const SINK_CHECKS: {
  [T in SinkType]?: (config: Extract<SinkConfig, { type: T }>, deps: Pick<SinkDeps, "baseDir">, at: string) => string[];
} = {
  ergo: ergoSinkIssues,
};

export function sinkConfigIssues(configs: readonly SinkConfig[], baseDir: string): string[] {
  return configs.flatMap((c, i) => {
    const at = `settings.alerts.sinks[${i}]`;
    return c.type === "ergo" ? (SINK_CHECKS.ergo?.(c, { baseDir }, at) ?? []) : [];
  });
}

/** Build the sink for one `settings.alerts.sinks[]` entry. */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  switch (config.type) {
    case "slack":
      return SINK_FACTORIES.slack(config, deps);
    case "ergo":
      return SINK_FACTORIES.ergo(config, deps);
    case "log":
      return SINK_FACTORIES.log(config, deps);
    case "github-issue":
      return SINK_FACTORIES["github-issue"](config, deps);
  }
}

/** Sinks may hold resources (HTTP agents); release them on shutdown. */
export async function closeSink(sink: Sink): Promise<void> {
  const close = (sink as Partial<{ close: () => Promise<void> }>).close;
  if (typeof close === "function") await close.call(sink);
}
