import { z } from "zod";

export const ErgoSinkSchema = z.strictObject({
  type: z.literal("ergo"),
  name: z.string().default("ergo"),
  repo_dir: z
    .string()
    .min(1)
    .describe(
      "Directory holding (or under) the .ergo repository (relative to the config file); watch and config check exit 2 when it is missing or has no .ergo.",
    ),
  binary: z.string().default("ergo"),
  agent: z.string().optional(),
});
export type ErgoSinkConfig = z.infer<typeof ErgoSinkSchema>;
