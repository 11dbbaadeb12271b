import type { SummaryInput } from "../channel.ts";
import { publicUrl } from "../../http/public-url.ts";
import { obj, str, list, has } from "../lenient.ts";
import type { GithubObservation } from "./types.ts";

/** report@1 `observed` for GitHub. */
export interface GithubObserved {
  repo: string;
  tag: string;
  tag_exists: boolean;
  commit: string | null;
  release: { draft: boolean; prerelease: boolean; published_at: string | null; html_url: string } | null;
  assets: { name: string; size: number; state: string; digest: string | null }[];
  checksums: { name: string; entries: { name: string; sha256: string }[]; invalid_lines: number } | null;
  latest: string | null;
  /** `--deep` only: sha256 of the downloaded bytes by asset name. */
  downloads: Record<string, string> | null;
  /** `checksums: { sidecar }` only: each asset's sidecar, by asset name (sha256 when read). */
  sidecars?: Record<string, { name: string; state: string; sha256?: string }>;
  /** `assets: []` with `checksums: null` only: false, the attached files (if any) were not judged. */
  assets_judged?: false;
  /** `extra_assets` only: the attached files it matched (allowed, not judged). */
  extra_assets?: string[];
}

export function observedGithub(o: GithubObservation): GithubObserved {
  const r = o.release;
  return {
    repo: o.repo,
    tag: o.tag.name,
    tag_exists: o.tag.exists,
    commit: o.tag.commit_sha,
    release: r
      ? { draft: r.draft, prerelease: r.prerelease, published_at: r.published_at, html_url: publicUrl(r.html_url) }
      : null,
    assets: (r?.assets ?? []).map((a) => ({ name: a.name, size: a.size, state: a.state, digest: a.digest })),
    checksums: o.checksums
      ? {
          name: o.checksums.name,
          entries: o.checksums.entries.map((e) => ({ name: e.name, sha256: e.sha256 })),
          invalid_lines: o.checksums.invalid_lines.length,
        }
      : null,
    latest: o.latest_release_tag,
    downloads: o.downloads
      ? Object.fromEntries(Object.entries(o.downloads).map(([name, d]) => [name, d.sha256] as const))
      : null,
    ...(o.sidecars
      ? {
          sidecars: Object.fromEntries(
            Object.entries(o.sidecars).map(([asset, sc]) => [
              asset,
              { name: sc.name, state: sc.state, ...(sc.state === "read" ? { sha256: sc.sha256 } : {}) },
            ]),
          ),
        }
      : {}),
    ...(o.assets_judged === false ? { assets_judged: false as const } : {}),
    ...(o.extra_assets ? { extra_assets: [...o.extra_assets] } : {}),
  };
}

export function summaryGithub(s: SummaryInput): string {
  const o = s.observed;
  const release = obj(o["release"]);
  if (!release) return `no release for ${s.tag}${o["tag_exists"] === false ? ", tag missing" : ""}`;
  const flags = [release["draft"] === true ? " draft" : "", release["prerelease"] === true ? " prerelease" : ""].join(
    "",
  );
  const latest = str(o["latest"]);
  const head = `${s.tag}${flags} ${latest === s.tag ? "latest" : `not latest (latest ${latest ?? "none"})`}`;
  if (o["assets_judged"] === false) {
    // A release without assets of its own: the files attached to it (if any) are another channel's (PyPI's wheels).
    const attached = list(o["assets"]).length;
    return attached ? `${head}, no assets judged (${attached} attached)` : `${head}, no assets`;
  }
  const sums = obj(o["checksums"]);
  const unread = s.findings.find((f) => f.code === "checksum-file-unread");
  const sumsName = str(sums?.["name"]) ?? unread?.subject ?? null;
  const unexpected = new Set(s.findings.filter((f) => f.code === "asset-unexpected").map((f) => f.subject));
  const extraNames = new Set(list(o["extra_assets"]).map((n) => str(n)));
  const names = list(o["assets"])
    .map((a) => str(obj(a)?.["name"]))
    .filter((n) => n === null || !extraNames.has(n));
  // Sidecar mode: `<asset><suffix>` files are checksums, not assets (the suffix is what each sidecar adds).
  const suffixes = new Set(
    Object.entries(obj(o["sidecars"]) ?? {}).map(([asset, sc]) =>
      (str(obj(sc)?.["name"]) ?? asset).slice(asset.length),
    ),
  );
  const isSidecar = (n: string) => [...suffixes].some((x) => x !== "" && n.endsWith(x));
  const present = names.filter((n) => n !== null && n !== sumsName && !unexpected.has(n) && !isSidecar(n)).length;
  const missing = s.findings.filter((f) => f.code === "asset-missing").length;
  const extra =
    (unexpected.size > 0 ? ` +${unexpected.size} unexpected` : "") +
    (extraNames.size > 0 ? ` +${extraNames.size} extra` : "");
  if (present + missing === 0 && unexpected.size === 0 && !sums && !unread) return `${head}, no assets`;
  let sumsText = "sums ok";
  if (has(s.findings, "sha-mismatch")) sumsText = "sha256 MISMATCH";
  else if (has(s.findings, "checksum-file-missing")) sumsText = "no sums file";
  else if (has(s.findings, "checksum-missing") || has(s.findings, "checksum-invalid")) sumsText = "sums incomplete";
  else if (unread) sumsText = "sums not read (draft)";
  else if (has(s.findings, "checksum-unreadable")) sumsText = "sidecars unreadable";
  else if (!sums && obj(o["sidecars"])) sumsText = "sidecars ok";
  else if (!sums) sumsText = "no sums";
  return `${head}, ${present}/${present + missing} assets${extra}, ${sumsText}`;
}
