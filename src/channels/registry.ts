import type { ProbeEndpoints, ProbeResult } from "../probes/types.ts";
import type { Channel, ChannelSettings, EndpointInputs, HostLimit } from "./channel.ts";
import { crates } from "./crates/index.ts";
import { github } from "./github/index.ts";
import { homebrew } from "./homebrew/index.ts";
import { BUILTIN_CHANNEL_IDS } from "./ids.ts";
import { npm } from "./npm/index.ts";
import { pypi } from "./pypi/index.ts";

/**
 * The built-in channels, in display order (reports, status page, metrics, evidence, `--channel`). A new channel is
 * one folder under src/channels/ plus one entry here. The GitHub channel comes first: it is the release's anchor,
 * and the Homebrew plan reads its assets.
 */
export const BUILTIN_CHANNELS = [github, crates, npm, pypi, homebrew] as const;
if (BUILTIN_CHANNELS.map((c) => c.id).join() !== BUILTIN_CHANNEL_IDS.join()) {
  throw new Error(`src/channels/ids.ts lists ${BUILTIN_CHANNEL_IDS.join(", ")}: BUILTIN_CHANNELS disagrees`);
}

type Builtin = (typeof BUILTIN_CHANNELS)[number];
export type ChannelId = Builtin["id"];
export type ChannelOf<C extends ChannelId> = Extract<Builtin, { id: C }>;

/* eslint-disable @typescript-eslint/no-explicit-any -- type-level extraction from Channel<...> */
type PlanIn<X> = X extends Channel<any, any, infer P, any, any> ? P : never;
type ObservationIn<X> = X extends Channel<any, any, any, infer O, any> ? O : never;
type ConfigIn<X> = X extends Channel<any, infer C, any, any, any> ? C : never;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** One channel's part of the plan (src/channels/<id>/types.ts). */
export type PlanOf<C extends ChannelId> = PlanIn<ChannelOf<C>>;
/** What one channel's probe returns. */
export type ObservationOf<C extends ChannelId> = ObservationIn<ChannelOf<C>>;
/** One channel's `channels.<id>` config block, parsed. */
export type ConfigOf<C extends ChannelId> = ConfigIn<ChannelOf<C>>;
export type ChannelObservation = ObservationOf<ChannelId>;
/** What the runner hands to the evaluator for one channel. */
export type ChannelProbeResult<C extends ChannelId = ChannelId> = ProbeResult<C, ObservationOf<C>>;

/** The channels a run knows, in display order. Injected wherever channels are iterated; default: the built-ins. */
export interface ChannelRegistry {
  readonly channels: readonly Channel[];
  readonly ids: readonly string[];
  get(id: string): Channel | undefined;
  /** The channel whose publication starts every grace window, if any. */
  readonly anchor: Channel | undefined;
}

/** A registry over these channels (ids unique, at most one anchor). Pure: nothing global changes. */
export function createRegistry(channels: readonly Channel[]): ChannelRegistry {
  const byId = new Map<string, Channel>();
  for (const c of channels) {
    if (!/^[a-z][a-z0-9-]*$/.test(c.id)) throw new Error(`channel id ${JSON.stringify(c.id)}: must be kebab-case`);
    if (byId.has(c.id)) throw new Error(`channel ${c.id} is registered twice`);
    byId.set(c.id, c);
  }
  const anchors = channels.filter((c) => c.anchor !== undefined);
  if (anchors.length > 1) throw new Error(`more than one anchor channel: ${anchors.map((c) => c.id).join(", ")}`);
  return {
    channels: [...channels],
    ids: channels.map((c) => c.id),
    get: (id) => byId.get(id),
    anchor: anchors[0],
  };
}

export const DEFAULT_REGISTRY: ChannelRegistry = createRegistry(BUILTIN_CHANNELS);

/** Channel ids in display order. */
export const CHANNELS: readonly ChannelId[] = BUILTIN_CHANNELS.map((c) => c.id);

export function isChannelId(value: string): value is ChannelId {
  return (CHANNELS as readonly string[]).includes(value);
}

/** The channels' `settings.<id>` blocks, each with its parsed value (channels without a block are left out). */
function blocks(registry: ChannelRegistry, settings: Readonly<Record<string, unknown>>) {
  return registry.channels.flatMap((c) => {
    const piece: ChannelSettings | undefined = c.settings;
    return piece ? [{ id: c.id, piece, block: settings[c.id] ?? (piece.schema.parse({}) as unknown) }] : [];
  });
}

/** `ProbeContext.endpoints`: each channel's view of its `settings.<id>` block, keyed by channel id. */
export function probeEndpoints(
  registry: ChannelRegistry,
  settings: Readonly<Record<string, unknown>>,
  inputs: EndpointInputs,
): ProbeEndpoints {
  return Object.fromEntries(blocks(registry, settings).map((b) => [b.id, b.piece.endpoints(b.block, inputs)]));
}

/** Host limits the channels' registries impose (before `settings.http.host_limits`, which wins). */
export function channelHostLimits(
  registry: ChannelRegistry,
  settings: Readonly<Record<string, unknown>>,
): Record<string, HostLimit> {
  return Object.assign({}, ...blocks(registry, settings).map((b) => b.piece.hostLimits?.(b.block) ?? {})) as Record<
    string,
    HostLimit
  >;
}

/** Secret values in the channels' `settings.<id>` blocks. */
export function channelSettingsSecrets(
  registry: ChannelRegistry,
  settings: Readonly<Record<string, unknown>>,
): (string | null | undefined)[] {
  return blocks(registry, settings).flatMap((b) => [...(b.piece.secrets?.(b.block) ?? [])]);
}
