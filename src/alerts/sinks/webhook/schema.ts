import { z } from "zod";
import { parseDuration } from "../../../config/duration.ts";
import { HttpUrl, RequestTimeout, Spacing } from "../fields.ts";

/** `settings.alerts.sinks[]` entry of type `webhook`: a generic JSON POST (payload.ts, `release-monitor/alert@1`). */
export const WebhookSinkSchema = z.strictObject({
  type: z.literal("webhook"),
  name: z.string().default("webhook"),
  url: HttpUrl.describe(
    "Endpoint that receives the JSON POST (a secret: it often carries a token; use ${WEBHOOK_URL}).",
  ),
  secret: z
    .string()
    .min(16, "must be at least 16 characters")
    .optional()
    .describe(
      "HMAC-SHA256 key (a secret; use ${WEBHOOK_SECRET}). When set, every POST carries " +
        "X-Release-Monitor-Signature: sha256=<hex HMAC of the body bytes>.",
    ),
  timeout: RequestTimeout.refine((v) => (parseDuration(v) ?? 0) > 0, "must be more than 0")
    .default("10s")
    .describe("Deadline for one POST, connect to answer; past it the delivery fails and is retried."),
  min_interval: Spacing.default("0").describe("Least spacing between two POSTs."),
});
export type WebhookSinkConfig = z.infer<typeof WebhookSinkSchema>;
