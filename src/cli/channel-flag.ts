import { BUILTIN_CHANNEL_IDS } from "../channels/ids.ts";
import type { ChannelRegistry } from "../channels/registry.ts";
import { UsageError } from "../errors.ts";
import { quote } from "../quote.ts";

/*
 * No runtime import of the channel registry here: commands/verify.ts builds its help from this file, and
 * `monitor verify --help` must not load every channel's modules (start-up, docs/benchmarks.md).
 */

/** `--channel <name...>` help: the channel ids, in display order (default: the built-ins, by name only). */
export function channelFlagHelp(ids: readonly string[] = BUILTIN_CHANNEL_IDS): string {
  return `only these channels (${ids.join(", ")})`;
}

/** `--channel` values, each a channel of the registry (a usage error, exit 2, names the bad one). */
export function parseChannelFlag(values: readonly string[], registry: ChannelRegistry): string[] {
  return values.map((c) => {
    if (!registry.get(c)) {
      throw new UsageError(`--channel: unknown channel ${quote(c)} (one of ${registry.ids.join(", ")})`);
    }
    return c;
  });
}
