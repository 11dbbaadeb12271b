import type { SinkConfig } from "../../config/schema.ts";
import type { Sink } from "../types.ts";
import type { SinkDeps } from "./deps.ts";
import { createErgoSink } from "./ergo/ergo-sink.ts";
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
} satisfies { [T in SinkType]: SinkFactory<T> };

/** Build the sink for one `settings.alerts.sinks[]` entry. */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  switch (config.type) {
    case "slack":
      return SINK_FACTORIES.slack(config, deps);
    case "ergo":
      return SINK_FACTORIES.ergo(config, deps);
    case "log":
      return SINK_FACTORIES.log(config, deps);
  }
}

/** Sinks may hold resources (HTTP agents); release them on shutdown. */
export async function closeSink(sink: Sink): Promise<void> {
  const close = (sink as Partial<{ close: () => Promise<void> }>).close;
  if (typeof close === "function") await close.call(sink);
}
