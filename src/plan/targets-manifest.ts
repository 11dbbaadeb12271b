import { z } from "zod";
import { AppError } from "../errors.ts";

/** plasmite's release/targets.json (schema_version 1): the source of truth for per-channel platforms. */
const Tier = z.enum(["official", "preview"]).nullable();
export const TargetsManifest = z.object({
  schema_version: z.literal(1),
  targets: z.array(
    z.object({
      rust_target: z.string(),
      sdk_platform: z.string(),
      node_platform: z.string().optional(),
      build_sdk: z.boolean().optional(),
      channels: z.record(z.string(), Tier),
    }),
  ),
});
export type TargetsManifest = z.infer<typeof TargetsManifest>;

export function parseTargetsManifest(text: string, where: string): TargetsManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppError("E_UPSTREAM_MALFORMED", `${where}: not JSON (${(err as Error).message})`);
  }
  const r = TargetsManifest.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new AppError(
      "E_UPSTREAM_MALFORMED",
      `${where}: ${first ? `${first.path.join(".")}: ${first.message}` : "invalid"}`,
    );
  }
  return r.data;
}

/** `release_channel_targets.sh <channel> official sdk_platform`. */
export function manifestPlatforms(
  manifest: TargetsManifest,
  channel: string,
  tier: "official" | "preview" = "official",
): string[] {
  return manifest.targets.filter((t) => t.channels[channel] === tier).map((t) => t.sdk_platform);
}
