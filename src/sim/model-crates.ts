import type { Content } from "./content.ts";

export interface CrateVersion {
  id: number;
  num: string;
  content: Content;
  /** sha256 hex of the .crate file (index `cksum`, API `checksum`). */
  checksum: string;
  createdAt: number;
  updatedAt: number;
  yanked: boolean;
  yankMessage: string | null;
  hidden: boolean;
  license: string;
  rustVersion: string | null;
  edition: string | null;
  features: Record<string, string[]>;
  links: string | null;
  downloads: number;
  auditActions: { action: "publish" | "yank" | "unyank"; at: number }[];
  /** What the sparse index says where it disagrees with the API (a stale or corrupted index line); tests only. */
  indexDivergence?: { yanked?: boolean; cksum?: string };
}

export interface CrateRecord {
  name: string;
  description: string;
  homepage: string | null;
  repository: string | null;
  documentation: string | null;
  createdAt: number;
  updatedAt: number;
  /** Publish order (the sparse index order). */
  versions: CrateVersion[];
}

/** crates.io lookups are case-insensitive and treat `-` and `_` alike; index files are keyed by the lower-cased name. */
export function canonicalCrateName(name: string): string {
  return name.toLowerCase().replace(/-/g, "_");
}

/** Sparse index path for a crate name (`1/a`, `2/ab`, `3/a/abc`, `pl/as/plasmite`). */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length === 1) return `1/${n}`;
  if (n.length === 2) return `2/${n}`;
  if (n.length === 3) return `3/${n.slice(0, 1)}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

export class CratesStore {
  readonly #crates = new Map<string, CrateRecord>();
  #nextVersionId = 1_400_000;

  get(name: string): CrateRecord | null {
    return this.#crates.get(canonicalCrateName(name)) ?? null;
  }

  /** Index files are looked up by exact lower-cased name. */
  getForIndex(lowerName: string): CrateRecord | null {
    const c = this.get(lowerName);
    return c && c.name.toLowerCase() === lowerName ? c : null;
  }

  ensure(
    name: string,
    meta: { description: string; repository: string | null; homepage: string | null },
    at: number,
  ): CrateRecord {
    const existing = this.get(name);
    if (existing) return existing;
    const record: CrateRecord = {
      name,
      description: meta.description,
      homepage: meta.homepage,
      repository: meta.repository,
      documentation: `https://docs.rs/${name}`,
      createdAt: at,
      updatedAt: at,
      versions: [],
    };
    this.#crates.set(canonicalCrateName(name), record);
    return record;
  }

  nextVersionId(): number {
    return this.#nextVersionId++;
  }
}
