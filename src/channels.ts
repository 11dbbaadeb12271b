/** The delivery channels a release is checked on, from src/channels/registry.ts. Order is the display order. */
export { CHANNELS, isChannelId, type ChannelId } from "./channels/registry.ts";
