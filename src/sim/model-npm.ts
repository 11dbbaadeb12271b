import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { Content } from "./content.ts";
import { compareVersions } from "./versions.ts";

export interface NpmVersionRecord {
  version: string;
  content: Content;
  integrity: string;
  shasum: string;
  fileCount: number;
  unpackedSize: number;
  publishedAt: number;
  signature: { keyid: string; sig: string };
  hidden: boolean;
  /** Static manifest fields copied into the version document. */
  manifest: Record<string, unknown>;
}

export type NpmEvent =
  | { at: number; kind: "publish"; version: string }
  | { at: number; kind: "deprecate"; version: string; message: string }
  | { at: number; kind: "dist-tag"; tag: string; version: string };

export interface NpmView {
  versions: NpmVersionRecord[];
  distTags: Record<string, string>;
  deprecated: Map<string, string>;
  created: number;
  modified: number;
  /** Number of changes folded in (the `_rev` counter). */
  revision: number;
}

/** One package as an event log, so the CDN-cached packument can be an older fold than the fresh version docs. */
export class NpmPackage {
  readonly name: string;
  readonly meta: Record<string, unknown>;
  readonly events: NpmEvent[] = [];
  readonly versions = new Map<string, NpmVersionRecord>();

  constructor(name: string, meta: Record<string, unknown>) {
    this.name = name;
    this.meta = meta;
  }

  get unscoped(): string {
    return this.name.includes("/") ? this.name.slice(this.name.indexOf("/") + 1) : this.name;
  }

  /** Fold of the events at or before `until` (all of them when null). Null when nothing visible exists yet. */
  view(until: number | null): NpmView | null {
    const events = this.events.filter((e) => until === null || e.at <= until).sort((a, b) => a.at - b.at);
    const versions = new Map<string, NpmVersionRecord>();
    const distTags: Record<string, string> = {};
    const deprecated = new Map<string, string>();
    let created = Number.POSITIVE_INFINITY;
    let modified = 0;
    let revision = 0;
    for (const e of events) {
      const record = this.versions.get(e.version);
      if (!record || record.hidden) continue;
      if (e.kind === "publish") {
        versions.set(e.version, record);
        created = Math.min(created, e.at);
      } else if (!versions.has(e.version)) {
        continue;
      } else if (e.kind === "deprecate") {
        if (e.message === "") deprecated.delete(e.version);
        else deprecated.set(e.version, e.message);
      } else {
        distTags[e.tag] = e.version;
      }
      modified = Math.max(modified, e.at);
      revision++;
    }
    if (versions.size === 0) return null;
    const ordered = [...versions.values()].sort((a, b) => compareVersions(a.version, b.version));
    return { versions: ordered, distTags, deprecated, created, modified, revision };
  }
}

/** The registry's ECDSA P-256 signing key (`/-/npm/v1/keys`); signs `<name>@<version>:<integrity>`. */
export class NpmSigner {
  readonly keyid: string;
  readonly publicKeyBase64: string;
  readonly #privateKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const spki = publicKey.export({ type: "spki", format: "der" });
    this.#privateKey = privateKey;
    this.publicKeyBase64 = spki.toString("base64");
    this.keyid = `SHA256:${createHash("sha256").update(spki).digest("base64").replace(/=+$/, "")}`;
  }

  sign(name: string, version: string, integrity: string): { keyid: string; sig: string } {
    const sig = sign("sha256", Buffer.from(`${name}@${version}:${integrity}`), this.#privateKey).toString("base64");
    return { keyid: this.keyid, sig };
  }
}

export class NpmStore {
  readonly #packages = new Map<string, NpmPackage>();
  readonly signer = new NpmSigner();

  get(name: string): NpmPackage | null {
    return this.#packages.get(name.toLowerCase()) ?? null;
  }

  ensure(name: string, meta: Record<string, unknown>): NpmPackage {
    const existing = this.get(name);
    if (existing) return existing;
    const pkg = new NpmPackage(name, meta);
    this.#packages.set(name.toLowerCase(), pkg);
    return pkg;
  }
}
