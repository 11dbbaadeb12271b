import { z } from "zod";
import { AppError } from "../../errors.ts";
import { githubGet } from "../../http/github.ts";
import type { ReleasePlan } from "../../plan/types.ts";
import type { HomebrewObservation, Probe, ProbeContext } from "../types.ts";
import { parseFormula } from "./parse-formula.ts";

/** Formulae and casks are a few KiB; the contents API itself stops at 1 MB for JSON. */
export const FORMULA_MAX_BYTES = 1024 * 1024;

/**
 * Homebrew tap: reads the formula (or cask) file from the tap repository at the configured ref through the
 * GitHub contents API (raw media type) and parses it statically. A missing file or ref (404) is `found: false`;
 * anything else we cannot read throws. Contract: registry-contracts.md §1.6 (contents) and §5.
 */
export const homebrewProbe: Probe<HomebrewObservation> = {
  channel: "homebrew",
  async observe(plan: ReleasePlan, ctx: ProbeContext): Promise<HomebrewObservation> {
    const hb = plan.homebrew;
    if (!hb) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no homebrew channel`);
    const tap = `${hb.tap_owner}/${hb.tap_repo}`;
    const where = `${tap}:${hb.path}@${hb.ref}`;
    const data = await githubGet(`formula ${where}`, () =>
      ctx.octokit.rest.repos.getContent({
        owner: hb.tap_owner,
        repo: hb.tap_repo,
        path: hb.path,
        ref: hb.ref,
        mediaType: { format: "raw" },
        request: { signal: ctx.signal },
      }),
    );
    const base = { channel: "homebrew", tap, path: hb.path, ref: hb.ref } as const;
    if (data === null) return { ...base, found: false, formula: null };
    const formula = parseFormula(formulaText(data, where));
    if (formula.warnings.length > 0)
      ctx.log.debug({ path: hb.path, warnings: formula.warnings }, "formula parse warnings");
    return { ...base, found: true, formula };
  },
};

/** The JSON form GitHub answers when it ignores the raw media type. */
const ContentFileBody = z.object({
  type: z.string(),
  encoding: z.string().nullish(),
  content: z.string().nullish(),
  size: z.number().nullish(),
});

/**
 * The formula text from a contents API answer: raw text (Octokit returns a string for `…raw; charset=utf-8`),
 * raw bytes (an ArrayBuffer when the charset is missing), or the JSON file object with base64 content.
 */
export function formulaText(data: unknown, where: string): string {
  if (typeof data === "string") return capped(Buffer.from(data, "utf8"), where);
  if (data instanceof ArrayBuffer) return capped(Buffer.from(data), where);
  if (ArrayBuffer.isView(data)) return capped(Buffer.from(data.buffer, data.byteOffset, data.byteLength), where);
  if (Array.isArray(data)) {
    throw new AppError("E_UPSTREAM_MALFORMED", `${where} is a directory, not a formula file`);
  }
  const parsed = ContentFileBody.safeParse(data);
  if (!parsed.success) {
    throw new AppError(
      "E_UPSTREAM_MALFORMED",
      `${where}: unexpected contents API answer (neither raw text nor a file)`,
    );
  }
  const file = parsed.data;
  if (file.type !== "file") {
    throw new AppError("E_UPSTREAM_MALFORMED", `${where} is a ${file.type}, not a formula file`);
  }
  if (typeof file.size === "number" && file.size > FORMULA_MAX_BYTES) throw tooLarge(where, file.size);
  if (file.encoding !== "base64" || typeof file.content !== "string") {
    throw new AppError(
      "E_UPSTREAM_MALFORMED",
      `${where}: contents API answered encoding ${file.encoding ?? "none"} without inline content`,
    );
  }
  return capped(Buffer.from(file.content, "base64"), where);
}

function capped(bytes: Buffer, where: string): string {
  if (bytes.length > FORMULA_MAX_BYTES) throw tooLarge(where, bytes.length);
  return bytes.toString("utf8");
}

function tooLarge(where: string, size: number): AppError {
  return new AppError("E_HTTP_TOO_LARGE", `${where} is ${size} bytes, over the ${FORMULA_MAX_BYTES}-byte formula cap`, {
    details: { size },
  });
}
