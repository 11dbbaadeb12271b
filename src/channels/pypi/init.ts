import type { ChannelInit } from "../channel.ts";

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
  block: ({ kept }) => ({ block: kept ? { project: kept.name } : null, notes: [] }),
};
