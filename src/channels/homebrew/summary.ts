import type { SummaryInput } from "../channel.ts";
import { publicUrl } from "../../http/public-url.ts";
import { str, list, has } from "../lenient.ts";
import type { HomebrewObservation, FormulaContext } from "./types.ts";

/** report@1 `observed` for Homebrew. */
export interface HomebrewObserved {
  tap: string;
  path: string;
  ref: string;
  found: boolean;
  version: string | null;
  artifacts: { platform: string; url: string; sha256: string | null }[];
  unsupported: string[];
}

/** `macos/arm`, `linux` (any CPU), `any`. */
export function contextLabel(ctx: FormulaContext): string {
  if (ctx.os === null && ctx.cpu === null) return "any";
  return [ctx.os ?? "any", ctx.cpu].filter((p) => p !== null).join("/");
}

export function observedHomebrew(o: HomebrewObservation): HomebrewObserved {
  const f = o.formula;
  return {
    tap: o.tap,
    path: o.path,
    ref: o.ref,
    found: o.found && f !== null,
    version: f?.version ?? null,
    artifacts: (f?.artifacts ?? []).map((a) => ({
      platform: contextLabel(a.context),
      url: publicUrl(a.resolved_url),
      sha256: a.sha256,
    })),
    unsupported: (f?.unsupported ?? []).map(contextLabel),
  };
}

export function summaryHomebrew(s: SummaryInput): string {
  const o = s.observed;
  if (o["found"] === false) return "formula not found";
  const urls = list(o["artifacts"]).length;
  const parts = [`formula ${str(o["version"]) ?? "without version"}, ${urls} url${urls === 1 ? "" : "s"}`];
  if (has(s.findings, "formula-ahead")) parts.push("ahead of GitHub release");
  if (has(s.findings, "sha-mismatch")) parts.push("sha256 MISMATCH");
  return parts.join(", ");
}
