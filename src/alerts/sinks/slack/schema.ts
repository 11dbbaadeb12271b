import { z } from "zod";
import { HttpUrl, Spacing } from "../fields.ts";

export const SlackSinkSchema = z.strictObject({
  type: z.literal("slack"),
  name: z.string().default("slack"),
  webhook_url: HttpUrl.describe("Incoming webhook URL (a secret; use ${SLACK_WEBHOOK_URL})."),
  min_interval: Spacing.default("1s"),
});
export type SlackSinkConfig = z.infer<typeof SlackSinkSchema>;
