import { z } from "zod";
import { Spacing } from "../fields.ts";

/** `settings.alerts.sinks[]` entry of type `github-issue`. The token is settings.github.token (or $GITHUB_TOKEN). */
export const GithubIssueSinkSchema = z.strictObject({
  type: z.literal("github-issue"),
  name: z.string().default("github-issue"),
  repo: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name")
    .optional()
    .describe("Repository (owner/name) that gets the issues; default: each project's own repo."),
  label: z
    .string()
    .trim()
    .min(1)
    .max(50)
    .refine((s) => !s.includes(","), "must not contain a comma")
    .default("release-drift")
    .describe("Label put on every issue; with the body marker it is how the sink finds its issues again."),
  min_interval: Spacing.default("1s").describe(
    "Least spacing between deliveries (GitHub asks for about a second between writes).",
  ),
});

export type GithubIssueSinkConfig = z.infer<typeof GithubIssueSinkSchema>;
