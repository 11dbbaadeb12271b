import { createHash } from "node:crypto";
import { hashId, type Content } from "./content.ts";

/** A tiny git: immutable commit snapshots, branches and tags, enough for refs, tag peeling and contents?ref=. */
export interface GitCommit {
  sha: string;
  at: number;
  message: string;
  parent: string | null;
  files: ReadonlyMap<string, Buffer>;
}

export interface GitTag {
  name: string;
  commitSha: string;
  /** Annotated tags have a tag object (`git/ref` answers `object.type: "tag"`); lightweight ones do not. */
  annotated: boolean;
  tagObjectSha: string | null;
  message: string;
  at: number;
}

export interface ReleaseAsset {
  id: number;
  nodeId: string;
  name: string;
  label: string | null;
  state: "uploaded" | "open" | "starter";
  contentType: string;
  content: Content;
  /** What the API advertises: `sha256:<hex>` (normally of `content`) or null. */
  digest: string | null;
  downloadCount: number;
  createdAt: number;
  updatedAt: number;
  /** Blob id used in the signed download URL. */
  uuid: string;
}

export interface Release {
  id: number;
  nodeId: string;
  tagName: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  immutable: boolean;
  targetCommitish: string;
  /** The commit date (what `releases/latest` sorts by). */
  createdAt: number;
  publishedAt: number | null;
  updatedAt: number;
  assets: ReleaseAsset[];
  /** Propagation delay: a hidden release answers like a missing one. */
  hidden: boolean;
}

export interface IssueLabel {
  id: number;
  name: string;
  color: string;
}

export interface IssueComment {
  id: number;
  body: string;
  createdAt: number;
  updatedAt: number;
}

/** An issue as GitHub keeps it (pull requests share the numbering; the sim has none). */
export interface Issue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  stateReason: "completed" | "not_planned" | "reopened" | null;
  labels: IssueLabel[];
  comments: IssueComment[];
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

/** Git blob sha1, as `contents` reports it. */
export function gitBlobSha(data: Buffer): string {
  return createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
}

export class Repo {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
  readonly ownerId: number;
  readonly defaultBranch = "main";
  readonly createdAt: number;
  readonly commits = new Map<string, GitCommit>();
  readonly branches = new Map<string, string>();
  readonly tags = new Map<string, GitTag>();
  readonly releases: Release[] = [];
  /** Repository setting "immutable releases": releases published while on are immutable and get a release attestation. */
  immutableReleases = false;
  /** Asset names a release attestation leaves out (fault injection: an attestation that does not cover every asset). */
  readonly attestationOmits = new Set<string>();
  /** Issues by number (1, 2, …), and the labels they have introduced (GitHub creates a label on first use). */
  readonly issues = new Map<number, Issue>();
  readonly labels = new Map<string, IssueLabel>();
  #counter = 0;

  constructor(id: number, owner: string, name: string, ownerId: number, createdAt: number) {
    this.id = id;
    this.owner = owner;
    this.name = name;
    this.ownerId = ownerId;
    this.createdAt = createdAt;
  }

  get slug(): string {
    return `${this.owner}/${this.name}`;
  }

  head(branch = this.defaultBranch): GitCommit | null {
    const sha = this.branches.get(branch);
    return sha ? (this.commits.get(sha) ?? null) : null;
  }

  /** New commit on `branch` applying `changes` (null deletes a path). */
  commit(
    changes: Record<string, string | Buffer | null>,
    message: string,
    at: number,
    branch = this.defaultBranch,
  ): GitCommit {
    const parent = this.head(branch);
    const files = new Map(parent?.files ?? []);
    for (const [path, data] of Object.entries(changes)) {
      if (data === null) files.delete(path);
      else files.set(path, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    }
    const sha = hashId("commit", this.slug, ++this.#counter, message, at);
    const commit: GitCommit = { sha, at, message, parent: parent?.sha ?? null, files };
    this.commits.set(sha, commit);
    this.branches.set(branch, sha);
    return commit;
  }

  addTag(name: string, commitSha: string, annotated: boolean, at: number, message = `${name}\n`): GitTag {
    if (this.tags.has(name)) throw new Error(`${this.slug}: tag ${name} already exists`);
    const tag: GitTag = {
      name,
      commitSha,
      annotated,
      tagObjectSha: annotated ? hashId("tag", this.slug, name, commitSha) : null,
      message,
      at,
    };
    this.tags.set(name, tag);
    return tag;
  }

  /** `?ref=` resolution: branch, tag, `refs/heads/x`, `refs/tags/x`, or a full commit sha. Absent = default branch. */
  resolveRef(ref: string | null): GitCommit | null {
    if (ref === null || ref === "") return this.head();
    const bare = ref.replace(/^refs\/(heads|tags)\//, "");
    if (!ref.startsWith("refs/tags/")) {
      const branch = this.branches.get(bare);
      if (branch) return this.commits.get(branch) ?? null;
    }
    if (!ref.startsWith("refs/heads/")) {
      const tag = this.tags.get(bare);
      if (tag) return this.commits.get(tag.commitSha) ?? null;
    }
    return this.commits.get(ref.toLowerCase()) ?? null;
  }

  tagByObjectSha(sha: string): GitTag | null {
    for (const tag of this.tags.values()) if (tag.tagObjectSha === sha) return tag;
    return null;
  }

  /** Releases anyone can see: not hidden; drafts only for callers with push access. */
  visibleReleases(withDrafts: boolean): Release[] {
    return this.releases
      .filter((r) => !r.hidden && (withDrafts || !r.draft))
      .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  }

  /** `GET /releases/tags/{tag}`: published releases only. */
  publishedReleaseByTag(tag: string): Release | null {
    return this.releases.find((r) => r.tagName === tag && !r.draft && !r.hidden) ?? null;
  }

  /** Newest non-draft, non-prerelease release by `created_at` (the commit date). */
  latestRelease(): Release | null {
    return this.visibleReleases(false).find((r) => !r.prerelease) ?? null;
  }

  /** A label by name (case-insensitive, like GitHub), created on first use. */
  label(name: string, id: () => number): IssueLabel {
    const key = name.toLowerCase();
    let label = this.labels.get(key);
    if (!label) {
      label = { id: id(), name, color: createHash("sha1").update(name).digest("hex").slice(0, 6) };
      this.labels.set(key, label);
    }
    return label;
  }

  openIssue(fields: { id: number; title: string; body: string | null; labels: IssueLabel[]; at: number }): Issue {
    const issue: Issue = {
      id: fields.id,
      number: this.issues.size + 1,
      title: fields.title,
      body: fields.body,
      state: "open",
      stateReason: null,
      labels: fields.labels,
      comments: [],
      createdAt: fields.at,
      updatedAt: fields.at,
      closedAt: null,
    };
    this.issues.set(issue.number, issue);
    return issue;
  }

  findAsset(id: number): { release: Release; asset: ReleaseAsset } | null {
    for (const release of this.releases) {
      if (release.hidden) continue;
      const asset = release.assets.find((a) => a.id === id);
      if (asset) return { release, asset };
    }
    return null;
  }
}

/** All simulated GitHub repositories, with GitHub-sized ids. */
export class GithubStore {
  readonly #repos = new Map<string, Repo>();
  readonly #owners = new Map<string, number>();
  #nextRepoId = 880_000_000;
  #nextOwnerId = 41_000_000;
  #nextReleaseId = 223_000_000;
  #nextAssetId = 261_000_000;
  #nextIssueId = 3_100_000_000;
  #nextCommentId = 3_500_000_000;
  #nextLabelId = 9_200_000_000;

  repo(owner: string, name: string): Repo | null {
    return this.#repos.get(`${owner}/${name}`.toLowerCase()) ?? null;
  }

  repoById(id: number): Repo | null {
    for (const repo of this.#repos.values()) if (repo.id === id) return repo;
    return null;
  }

  repos(): Repo[] {
    return [...this.#repos.values()];
  }

  ensureRepo(slug: string, at: number): Repo {
    const [owner, name] = slug.split("/");
    if (!owner || !name) throw new Error(`repository must be owner/name: ${slug}`);
    const existing = this.repo(owner, name);
    if (existing) return existing;
    let ownerId = this.#owners.get(owner.toLowerCase());
    if (ownerId === undefined) {
      ownerId = this.#nextOwnerId++;
      this.#owners.set(owner.toLowerCase(), ownerId);
    }
    const repo = new Repo(this.#nextRepoId++, owner, name, ownerId, at);
    this.#repos.set(slug.toLowerCase(), repo);
    return repo;
  }

  nextReleaseId(): number {
    return this.#nextReleaseId++;
  }

  nextAssetId(): number {
    return this.#nextAssetId++;
  }

  nextIssueId(): number {
    return this.#nextIssueId++;
  }

  nextCommentId(): number {
    return this.#nextCommentId++;
  }

  nextLabelId(): number {
    return this.#nextLabelId++;
  }
}

/** GitHub-looking node ids (`RE_kwDO…`, `RA_kwDO…`). */
export function nodeId(prefix: string, id: number | string): string {
  return `${prefix}_kwDO${Buffer.from(hashId(prefix, id).slice(0, 12), "hex").toString("base64url")}`;
}
