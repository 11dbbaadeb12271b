import { z } from "zod";
import { AppError } from "../../errors.ts";

/**
 * Lenient schemas for the GitHub REST payloads the probe reads (registry-contracts.md §1.6): pick the fields we
 * need, tolerate (strip) everything else. Fields GitHub added later (`digest` 2025, `immutable` 2025) or that are
 * documented nullable may be absent or null in older recordings; both read as null.
 */

const nullableString = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

/** `GET /repos/{o}/{r}/git/ref/tags/{tag}`: `object.type` is `commit` (lightweight) or `tag` (annotated). */
export const GitRefBody = z.object({
  ref: z.string(),
  object: z.object({ type: z.string(), sha: z.string() }),
});

/** `GET /repos/{o}/{r}/git/tags/{sha}`: an annotated tag object, pointing at a commit (or another tag). */
export const GitTagBody = z.object({
  sha: z.string(),
  object: z.object({ type: z.string(), sha: z.string() }),
});

/** OpenAPI `release-asset`. `label` (null or "") and `uploader` are not needed and not read. */
export const ReleaseAssetBody = z.object({
  id: z.number(),
  name: z.string(),
  size: z.number(),
  state: z.string(),
  digest: nullableString,
  browser_download_url: z.string(),
  url: z.string(),
  content_type: nullableString,
  created_at: nullableString,
  updated_at: nullableString,
});

/** OpenAPI `release` (published releases only: drafts answer 404 on `releases/tags/{tag}`). */
export const ReleaseBody = z.object({
  id: z.number(),
  tag_name: z.string(),
  name: nullableString,
  draft: z.boolean(),
  prerelease: z.boolean(),
  immutable: z
    .boolean()
    .nullish()
    .transform((v) => v ?? null),
  created_at: nullableString,
  published_at: nullableString,
  html_url: z.string(),
  target_commitish: nullableString,
  assets: z.array(ReleaseAssetBody),
});
export type ReleaseBody = z.output<typeof ReleaseBody>;

/** `GET /repos/{o}/{r}/releases/latest`: only the tag matters here. */
export const LatestReleaseBody = z.object({ tag_name: z.string() });

/**
 * Validates an upstream payload. A mismatch means we cannot tell what the channel says, so it throws
 * `E_UPSTREAM_MALFORMED` naming the first offending field (the channel becomes `unknown`).
 */
export function parseUpstream<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const first = issues[0] ?? { path: "(body)", message: "invalid" };
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : "";
  throw new AppError("E_UPSTREAM_MALFORMED", `${what}: unexpected payload at ${first.path}: ${first.message}${more}`, {
    details: { issues: issues.slice(0, 10) },
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(body)";
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
}
