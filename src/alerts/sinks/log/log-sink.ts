import type { AlertKind, AlertMessage, Sink } from "../../types.ts";
import { defineSink } from "../define.ts";
import type { SinkDeps } from "../deps.ts";
import { LogSinkSchema, type LogSinkConfig } from "./schema.ts";

export type { LogSinkConfig } from "./schema.ts";

export const logSink = defineSink({
  type: "log",
  schema: LogSinkSchema,
  secrets: () => [],
  create: (c, deps) => createLogSink(c, deps),
});

const WARN_KINDS: ReadonlySet<AlertKind> = new Set(["open", "reopen", "degraded"]);

/**
 * Writes each alert as one pino line: warn for open/reopen/degraded, info for remind/resolve/recovered. A rolled-up
 * message is one line too, its incidents under `alert.incidents`.
 */
export function createLogSink(config: LogSinkConfig, deps: SinkDeps): Sink {
  const log = deps.log;
  return {
    name: config.name,
    type: "log",
    minIntervalMs: 0,
    rendersRollups: true,
    deliver(message: AlertMessage): Promise<void> {
      const i = message.incident;
      const fields = {
        sink: config.name,
        alert: {
          id: message.id,
          kind: message.kind,
          incident: i.id,
          project: i.project,
          tag: i.tag,
          channel: i.channel,
          code: i.code,
          subject: i.subject,
          expected: i.expected,
          actual: i.actual,
          first_seen: i.first_seen,
          evidence: i.evidence,
          resolution: message.resolution,
          status_url: message.status_url,
          // A rolled-up message (group: release) lists every incident it speaks for.
          ...(message.items === undefined
            ? {}
            : {
                incidents: message.items.map((it) => ({
                  incident: it.incident.id,
                  channel: it.incident.channel,
                  code: it.incident.code,
                  subject: it.incident.subject,
                  summary: it.summary,
                  resolution: it.resolution,
                })),
              }),
        },
      };
      const text = `alert ${message.kind}: ${message.summary}`;
      if (WARN_KINDS.has(message.kind)) log.warn(fields, text);
      else log.info(fields, text);
      return Promise.resolve();
    },
  };
}
