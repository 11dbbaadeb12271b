import type { ChannelInit, InitBlock, InitBlockInput } from "../channel.ts";
import { wheelPlatformsOf } from "./plan.ts";

/** What `monitor init` read of the kept project's release on PyPI (`ChannelDiscovery.details`). */
export interface PypiDetails {
  /** The release's file names; null when PyPI could not tell. */
  files: string[] | null;
}

/** PEP 503 normalisation: runs of `-`, `_`, `.` become `-`, lower case. */
export function normalizePypiName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** `monitor init` for PyPI: a pyproject.toml's `[project].name`, PEP 503 normalised. */
export const pypiInit: ChannelInit = {
  manifests: [
    {
      file: "pyproject.toml",
      format: "toml",
      read(doc) {
        const name = obj(doc["project"])?.["name"];
        return { names: typeof name === "string" ? [normalizePypiName(name)] : [] };
      },
    },
  ],
  block: pypiBlock,
};

/**
 * The project, and without a targets manifest the wheel platforms: PyPI's own files for the release (`wheel: null`,
 * `sdist: null` when it has none); when PyPI could not tell, the wheels attached to the GitHub release.
 */
function pypiBlock({ kept, details, release }: InitBlockInput): InitBlock {
  if (!kept) return { block: null, notes: [] };
  if (release.targets_manifest) return { block: { project: kept.name }, notes: [] };
  const files = (details as PypiDetails | undefined)?.files ?? null;
  if (files === null) {
    const platforms = wheelPlatformsOf(release.assets.python_files);
    const note = platforms.length
      ? "wheel platforms are those of the wheels on the GitHub release (PyPI could not tell)"
      : "PyPI could not tell which wheels it has: list their platforms, or write wheel: null";
    return { block: { project: kept.name, platforms }, notes: [note] };
  }
  const platforms = wheelPlatformsOf(files);
  const block: Record<string, unknown> = {
    project: kept.name,
    ...(platforms.length ? { platforms } : { wheel: null }),
  };
  if (!files.some((f) => f.endsWith(".tar.gz") || f.endsWith(".zip"))) block["sdist"] = null;
  return { block, notes: [] };
}
