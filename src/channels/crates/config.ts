import { z } from "zod";
import { CrateName } from "../../config/names.ts";

/** `projects[].channels.crates`. */
export const CratesChannelConfig = z.strictObject({ crate: CrateName });
export type CratesChannelConfig = z.infer<typeof CratesChannelConfig>;
