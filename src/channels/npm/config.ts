import { z } from "zod";
import { NpmPackageName } from "../../config/names.ts";

/** `projects[].channels.npm`. */
export const NpmChannelConfig = z.strictObject({ package: NpmPackageName });
export type NpmChannelConfig = z.infer<typeof NpmChannelConfig>;
