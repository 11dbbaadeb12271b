import { z } from "zod";

export const LogSinkSchema = z.strictObject({
  type: z.literal("log"),
  name: z.string().default("log"),
});
export type LogSinkConfig = z.infer<typeof LogSinkSchema>;
