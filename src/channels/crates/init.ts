import type { ChannelInit } from "../channel.ts";

const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/**
 * `monitor init` for crates.io: a Cargo.toml's crate unless `publish = false` (or an empty registry list), and its
 * workspace members to read next; the block names the kept crate.
 */
export const cratesInit: ChannelInit = {
  manifests: [
    {
      file: "Cargo.toml",
      format: "toml",
      read(doc, path) {
        const pkg = obj(doc["package"]);
        const publish = pkg?.["publish"];
        const published = publish !== false && !(Array.isArray(publish) && publish.length === 0);
        const names = typeof pkg?.["name"] === "string" && published ? [pkg["name"]] : [];
        const members = obj(doc["workspace"])?.["members"];
        const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
        const more = Array.isArray(members)
          ? members
              .filter((m): m is string => typeof m === "string" && !m.includes("*"))
              .map((m) => `${dir}${m}/Cargo.toml`)
          : [];
        return { names, more };
      },
    },
  ],
  projectNames: (names) => [...names],
  block: ({ kept }) => ({ block: kept ? { crate: kept.name } : null, notes: [] }),
};
