import { z } from "zod";
import { boundedDuration } from "../../config/duration.ts";

/** Config pieces several sinks share. */

/**
 * Fields every `settings.alerts.sinks[]` entry has, whatever its type: the registry adds them to each sink's
 * schema, so a sink folder never declares them.
 */
export const SHARED_SINK_FIELDS = {
  group: z
    .enum(["incident", "release"])
    .default("incident")
    .describe(
      "incident: one message per incident. release: the incidents of one release that open (or resolve) in the " +
        "same cycle arrive as one message listing them.",
    ),
};

export const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
/** Spacing between messages (bounded like every other spacing in the config). */
export const Spacing = boundedDuration("1h");
/** A request deadline. */
export const RequestTimeout = boundedDuration("10m");

/**
 * A URL that carries its own credential (webhook URLs): the whole URL, plus its path and its query on their
 * own, since an error text might quote only those.
 */
export function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    if (u.pathname.length >= 12) out.push(u.pathname);
    if (u.search.length >= 12) out.push(u.search);
  } catch {
    // config validation guarantees a URL; nothing more to register otherwise
  }
  return out;
}
