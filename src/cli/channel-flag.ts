import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { UsageError } from "../errors.ts";
import { quote } from "../quote.ts";

/** `--channel <name...>` help: the registry's channels, in display order. */
export function channelFlagHelp(registry: ChannelRegistry = DEFAULT_REGISTRY): string {
  return `only these channels (${registry.ids.join(", ")})`;
}

/** `--channel` values, each a channel of the registry (a usage error, exit 2, names the bad one). */
export function parseChannelFlag(values: readonly string[], registry: ChannelRegistry = DEFAULT_REGISTRY): string[] {
  return values.map((c) => {
    if (!registry.get(c)) {
      throw new UsageError(`--channel: unknown channel ${quote(c)} (one of ${registry.ids.join(", ")})`);
    }
    return c;
  });
}
