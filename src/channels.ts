/** The five delivery channels a release is checked on. Order is the display order everywhere. */
export const CHANNELS = ["github", "crates", "npm", "pypi", "homebrew"] as const;
export type ChannelId = (typeof CHANNELS)[number];

export function isChannelId(value: string): value is ChannelId {
  return (CHANNELS as readonly string[]).includes(value);
}
