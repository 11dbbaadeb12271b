import { CHANNELS, type ChannelId } from "../channels.ts";
import { ActionsStore } from "./model-actions.ts";
import { Content, hashId } from "./content.ts";
import { FaultSet } from "./faults.ts";
import { placeholderSha, renderCargoDistFormula, renderFormula } from "./formula.ts";
import { GithubStore, nodeId, type Release, type ReleaseAsset } from "./model-github.ts";
import { CratesStore } from "./model-crates.ts";
import { NpmStore } from "./model-npm.ts";
import { PypiStore, type PypiFile } from "./model-pypi.ts";
import { UNBOUND_URLS, type SimUrls } from "./services.ts";
import { PLASMITE_TARGETS_MANIFEST } from "./targets-manifest.ts";
import type {
  FormulaMode,
  PlannedAsset,
  ProjectSpec,
  PublishOptions,
  ResolvedProject,
  VersionArtifacts,
  WorldOptions,
} from "./spec.ts";
import {
  resolveSimProvenance,
  SimAttestations,
  type ResolvedSimProvenance,
  type SimCratesProvenance,
} from "./provenance/served.ts";
import { toMs } from "./time.ts";
import { isPrerelease, toPep440 } from "./versions.ts";

const DEFAULT_GITHUB_PLATFORMS = ["linux_amd64", "darwin_amd64", "darwin_arm64"];
const DEFAULT_HOMEBREW_PLATFORMS = ["darwin_arm64", "darwin_amd64", "linux_amd64"];
const DEFAULT_WHEEL_PLATFORMS = ["darwin_amd64", "darwin_arm64", "windows_amd64"];

/** Wheel platform tags the sim uses for each platform id. */
export const WHEEL_TAGS: Record<string, string> = {
  darwin_arm64: "macosx_11_0_arm64",
  darwin_amd64: "macosx_10_12_x86_64",
  windows_amd64: "win_amd64",
  windows_arm64: "win_arm64",
  linux_amd64: "manylinux_2_17_x86_64.manylinux2014_x86_64",
  linux_arm64: "manylinux_2_17_aarch64.manylinux2014_aarch64",
};

const MINUTE = 60_000;

/**
 * The scriptable, deterministic state behind every simulated registry. Services read it on each request, so a
 * mutation (publish, yank, fault, …) is visible to the next request.
 */
export class World {
  readonly github = new GithubStore();
  readonly crates = new CratesStore();
  readonly npm = new NpmStore();
  readonly pypi = new PypiStore();
  readonly faults = new FaultSet();
  /** Signed attestations (made lazily) and whether a trusted root is served. */
  readonly attestations = new SimAttestations();
  /** GitHub Actions: workflows, runs, jobs, artifacts, secrets (model-actions.ts). */
  readonly actions: ActionsStore = new ActionsStore(this);
  /** Mutable: how long the npm packument lags behind a change. */
  npmPackumentStaleMs: number;
  readonly githubRateLimit: { authenticated: number; anonymous: number };
  /** Errors thrown by scheduled callbacks. */
  readonly scheduleErrors: unknown[] = [];
  urls: SimUrls = UNBOUND_URLS;
  readonly seed: string;
  readonly #now: () => number;
  readonly #projects = new Map<string, ResolvedProject>();
  readonly #versions = new Map<string, Map<string, VersionArtifacts>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: WorldOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.npmPackumentStaleMs = options.npmPackumentStaleMs ?? 0;
    this.githubRateLimit = {
      authenticated: options.githubRateLimit?.authenticated ?? 5000,
      anonymous: options.githubRateLimit?.anonymous ?? 60,
    };
    this.seed = options.seed ?? "sim";
  }

  now(): number {
    return this.#now();
  }

  // ------------------------------------------------------------------ projects

  addProject(spec: ProjectSpec): ResolvedProject {
    if (this.#projects.has(spec.name)) throw new Error(`project ${spec.name} already exists`);
    const p: ResolvedProject = {
      name: spec.name,
      repo: spec.repo,
      tap: spec.tap ?? null,
      formulaPath: spec.formulaPath ?? `Formula/${spec.name}.rb`,
      crate: spec.crate ?? null,
      npm: spec.npm ?? null,
      pypi: spec.pypi ?? null,
      githubPlatforms: spec.githubPlatforms ?? DEFAULT_GITHUB_PLATFORMS,
      homebrewPlatforms: spec.homebrewPlatforms ?? DEFAULT_HOMEBREW_PLATFORMS,
      wheelPlatforms: spec.wheelPlatforms ?? DEFAULT_WHEEL_PLATFORMS,
      assetBytes: spec.assetBytes ?? 4096,
      packageBytes: spec.packageBytes ?? 4096,
      platformNames: spec.platformNames ?? {},
      assetName: spec.assetName ?? "{name}_{version}_{platform}.tar.gz",
      checksumsName:
        spec.checksumsName === null ? null : (spec.checksumsName ?? "sha256sums.txt").replace(/\{name\}/g, spec.name),
      sidecarSuffix: spec.sidecarSuffix ?? null,
      cargoDistFiles: spec.cargoDistFiles ?? false,
      formulaStyle: spec.formulaStyle ?? "plasmite",
      githubAttachesPypiFiles: spec.githubAttachesPypiFiles ?? false,
      npmManifestPath: spec.npmManifestPath ?? "bindings/node/package.json",
      pypiManifestPath: spec.pypiManifestPath ?? "bindings/python/pyproject.toml",
      repoFiles: spec.repoFiles ?? {},
      targetsManifest: spec.targetsManifest === undefined ? PLASMITE_TARGETS_MANIFEST : spec.targetsManifest,
      targetsManifestPath: spec.targetsManifestPath ?? "release/targets.json",
      tagPrefix: spec.tagPrefix ?? "v",
      description: spec.description ?? `${spec.name} (simulated project)`,
      license: spec.license ?? "MIT",
      formulaInstall: spec.formulaInstall ?? [`bin.install "bin/${spec.name}"`],
      formulaTest: spec.formulaTest ?? [`system bin/"${spec.name}", "--version"`],
      formulaUrlBase: spec.formulaUrlBase ?? "https://github.com",
    };
    const at = this.now() - 365 * 24 * 60 * MINUTE;
    const repo = this.github.ensureRepo(p.repo, at);
    if (!repo.head()) {
      const files: Record<string, string> = { "README.md": `# ${p.name}\n\n${p.description}\n` };
      if (p.targetsManifest !== null) files[p.targetsManifestPath] = p.targetsManifest;
      repo.commit(files, "Initial commit", at);
    }
    if (p.tap) {
      const tap = this.github.ensureRepo(p.tap, at);
      if (!tap.head())
        tap.commit({ "README.md": `# ${tap.owner} tap\n\nbrew tap ${tap.owner}/tap\n` }, "Initial commit", at);
    }
    this.#projects.set(p.name, p);
    this.#versions.set(p.name, new Map());
    return p;
  }

  project(name: string): ResolvedProject {
    const p = this.#projects.get(name);
    if (!p) throw new Error(`unknown project ${name}`);
    return p;
  }

  hasProject(name: string): boolean {
    return this.#projects.has(name);
  }

  projects(): ResolvedProject[] {
    return [...this.#projects.values()];
  }

  /** Channels the project has at all. */
  channelsOf(project: string): ChannelId[] {
    const p = this.project(project);
    return CHANNELS.filter(
      (c) =>
        c === "github" ||
        (c === "crates" && p.crate) ||
        (c === "npm" && p.npm) ||
        (c === "pypi" && p.pypi) ||
        (c === "homebrew" && p.tap),
    );
  }

  /** What was generated for a version (asset bytes and digests, files, formula), published or not. */
  artifacts(project: string, version: string): VersionArtifacts {
    const v = this.#versions.get(project)?.get(version);
    if (!v) throw new Error(`${project} ${version} was never published`);
    return v;
  }

  /** How a version's artefacts were built and published, per channel (null: no provenance there). */
  provenanceOf(project: string, version: string): ResolvedSimProvenance {
    const p = this.project(project);
    const art = this.artifacts(project, version);
    const repo = this.github.ensureRepo(p.repo, this.now());
    const tagCommit = repo.tags.get(art.tag)?.commitSha ?? hashId("commit-of", p.repo, art.tag);
    const runId = 20_000_000 + Number.parseInt(hashId("run", p.repo, art.tag).slice(0, 6), 16);
    return resolveSimProvenance(art.options.provenance, {
      repo: p.repo,
      tag: art.tag,
      tagCommit,
      sourceCommit: art.sourceCommit ?? tagCommit,
      runId,
    });
  }

  /** The crates.io trusted publish whose `trustpub_data.run_id` is `runId` in `repo`, if any (the Actions run). */
  trustpubRun(repo: string, runId: number): { version: string; crates: SimCratesProvenance } | null {
    for (const p of this.#projects.values()) {
      for (const version of this.versions(p.name)) {
        const crates = this.provenanceOf(p.name, version).crates;
        if (crates && crates.runId === runId && crates.repository.toLowerCase() === repo.toLowerCase())
          return { version, crates };
      }
    }
    return null;
  }

  /** The project and version an npm package version, crate version or PyPI file belongs to. */
  findVersion(
    channel: "npm" | "crates" | "pypi",
    name: string,
    version: string,
  ): { project: ResolvedProject; art: VersionArtifacts } | null {
    for (const p of this.#projects.values()) {
      const own = channel === "npm" ? p.npm : channel === "crates" ? p.crate : p.pypi;
      if (own === null) continue;
      const same =
        channel === "pypi"
          ? own.replace(/[-_.]+/g, "-").toLowerCase() === name.replace(/[-_.]+/g, "-").toLowerCase()
          : own === name;
      if (!same) continue;
      for (const art of this.#versions.get(p.name)?.values() ?? []) {
        if (art.version === version || (channel === "pypi" && toPep440(art.version) === version))
          return { project: p, art };
      }
    }
    return null;
  }

  versions(project: string): string[] {
    return [...(this.#versions.get(project)?.keys() ?? [])];
  }

  // ------------------------------------------------------------------ publishing

  publish(project: string, version: string, opts: PublishOptions = {}): VersionArtifacts {
    const p = this.project(project);
    const versions = this.#versions.get(project) as Map<string, VersionArtifacts>;
    if (versions.has(version)) throw new Error(`${project} ${version} already published`);
    const available = this.channelsOf(project);
    const channels = opts.channels ?? available;
    const unknown = channels.filter((c) => !available.includes(c));
    if (unknown.length > 0) throw new Error(`${project} has no ${unknown.join(", ")} channel`);
    const at = toMs(opts.publishedAt ?? this.now());
    const art = this.#plan(p, version, opts, at);
    versions.set(version, art);
    for (const channel of channels) this.#materialize(p, art, channel, at);
    return art;
  }

  /** A channel catching up later (the late npm publish, the tap bump). */
  publishChannel(project: string, version: string, channel: ChannelId, at: number | Date | string = this.now()): void {
    const p = this.project(project);
    const art = this.artifacts(project, version);
    if (art.published.has(channel)) return;
    this.#materialize(p, art, channel, toMs(at), channel === "homebrew" ? "aligned" : undefined);
  }

  #plan(p: ResolvedProject, version: string, opts: PublishOptions, at: number): VersionArtifacts {
    const seed = (name: string): string => `${this.seed}/${p.name}/${version}/${name}`;
    const tag = `${p.tagPrefix}${version}`;
    const omitted = opts.omitAssets ?? [];
    const assets: PlannedAsset[] = [];
    const sums: string[] = [];
    for (const platform of p.githubPlatforms) {
      const name = p.assetName
        .replace(/\{name\}/g, p.name)
        .replace(/\{version\}/g, version)
        .replace(/\{platform\}/g, p.platformNames[platform] ?? platform);
      const content = Content.generated(seed(name), p.assetBytes);
      let digest: string | null = `sha256:${content.sha256()}`;
      if (opts.corruptDigestFor === platform) digest = `sha256:${Content.fixed(`${name}#corrupt-digest`).sha256()}`;
      if (opts.nullDigest) digest = null;
      assets.push({ name, platform, contentType: contentTypeFor(name), content, digest });
      if (opts.skipChecksumLineFor !== platform) {
        const hex =
          opts.corruptChecksumFor === platform ? Content.fixed(`${name}#corrupt-sum`).sha256() : content.sha256();
        sums.push(`${hex}  ${name}`);
        if (p.sidecarSuffix) assets.push(sidecarAsset(`${name}${p.sidecarSuffix}`, hex, name, opts));
      }
    }
    if (p.cargoDistFiles) assets.push(...cargoDistFiles(p, version, tag, sums, seed, opts));
    sums.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
    const checksums = p.checksumsName ? Content.fixed(sums.map((l) => `${l}\n`).join("")) : null;
    if (checksums && p.checksumsName) {
      assets.push({
        name: p.checksumsName,
        platform: null,
        contentType: "text/plain",
        content: checksums,
        digest: opts.nullDigest ? null : `sha256:${checksums.sha256()}`,
      });
    }
    for (const extra of opts.extraAssets ?? []) {
      const content =
        extra.content !== undefined
          ? Content.fixed(extra.content)
          : Content.generated(seed(extra.name), extra.size ?? 1024);
      const digest = extra.digest !== undefined ? extra.digest : opts.nullDigest ? null : `sha256:${content.sha256()}`;
      assets.push({
        name: extra.name,
        platform: null,
        contentType: extra.contentType ?? contentTypeFor(extra.name),
        content,
        digest,
      });
    }
    const pyVersion = toPep440(version);
    const pypiFiles: VersionArtifacts["pypiFiles"] = [];
    if (p.pypi) {
      const sdist = `${p.pypi}-${pyVersion}.tar.gz`;
      pypiFiles.push({
        filename: sdist,
        packagetype: "sdist",
        pythonVersion: "source",
        platform: null,
        content: Content.generated(seed(sdist), p.packageBytes),
      });
      const dist = p.pypi.replace(/[-_.]+/g, "_").toLowerCase();
      for (const platform of p.wheelPlatforms) {
        const wheel = `${dist}-${pyVersion}-cp311-cp311-${WHEEL_TAGS[platform] ?? platform}.whl`;
        pypiFiles.push({
          filename: wheel,
          packagetype: "bdist_wheel",
          pythonVersion: "cp311",
          platform,
          content: Content.generated(seed(wheel), p.packageBytes + 1024),
        });
      }
    }
    if (p.githubAttachesPypiFiles) {
      for (const f of pypiFiles) {
        const digest = opts.nullDigest ? null : `sha256:${f.content.sha256()}`;
        assets.push({
          name: f.filename,
          platform: null,
          contentType: contentTypeFor(f.filename),
          content: f.content,
          digest,
        });
      }
    }
    const differs = opts.pypiDiffersFor;
    for (const f of pypiFiles) {
      // Rebuilt before the PyPI upload: the file on PyPI is not the one attached to the GitHub release.
      if (differs !== undefined && [f.filename, f.platform ?? "sdist"].includes(differs))
        f.content = Content.generated(seed(`${f.filename}#rebuilt`), f.content.size);
    }
    const art: VersionArtifacts = {
      project: p.name,
      version,
      tag,
      publishedAt: at,
      commitAt: at - 10 * MINUTE,
      assets,
      omitted,
      checksums,
      crate: p.crate ? Content.generated(seed(`${p.crate}-${version}.crate`), p.packageBytes) : null,
      npmTarball: p.npm ? Content.generated(seed(`npm-${version}.tgz`), p.packageBytes * 2) : null,
      pypiFiles,
      formulaMode: opts.formula ?? "aligned",
      formulaText: "",
      published: new Set(),
      options: opts,
    };
    art.formulaText = this.#formulaFor(p, art, art.formulaMode === "placeholder");
    return art;
  }

  #formulaFor(p: ResolvedProject, art: VersionArtifacts, placeholder: boolean): string {
    const artifacts: Record<string, { url: string; sha256: string }> = {};
    for (const platform of p.homebrewPlatforms) {
      const asset = art.assets.find((a) => a.platform === platform);
      const name =
        asset?.name ??
        p.assetName
          .replace(/\{name\}/g, p.name)
          .replace(/\{version\}/g, art.version)
          .replace(/\{platform\}/g, p.platformNames[platform] ?? platform);
      let sha = asset ? asset.content.sha256() : Content.fixed(`${name}#missing`).sha256();
      if (art.options.corruptFormulaFor === platform) sha = Content.fixed(`${name}#corrupt-formula`).sha256();
      if (placeholder) sha = placeholderSha(platform);
      artifacts[platform] = { url: `${p.formulaUrlBase}/${p.repo}/releases/download/${art.tag}/${name}`, sha256: sha };
    }
    if (p.formulaStyle === "cargo-dist") {
      return renderCargoDistFormula({
        name: p.name,
        desc: p.description,
        homepage: `https://github.com/${p.repo}`,
        version: art.version,
        license: p.license,
        artifacts,
        targets: p.platformNames,
      });
    }
    return renderFormula({
      name: p.name,
      desc: p.description,
      homepage: `https://github.com/${p.repo}`,
      version: art.version,
      license: p.license,
      artifacts,
      install: p.formulaInstall,
      test: p.formulaTest,
    });
  }

  #materialize(
    p: ResolvedProject,
    art: VersionArtifacts,
    channel: ChannelId,
    at: number,
    formulaMode?: FormulaMode,
  ): void {
    switch (channel) {
      case "github":
        this.#publishGithub(p, art, at);
        break;
      case "crates":
        this.#publishCrate(p, art, at);
        break;
      case "npm":
        this.#publishNpm(p, art, at);
        break;
      case "pypi":
        this.#publishPypi(p, art, at);
        break;
      case "homebrew":
        // A stale formula means the tap bump has not happened: the channel can still catch up later.
        if (!this.#publishFormula(p, art, at, formulaMode ?? art.formulaMode)) return;
        break;
    }
    art.published.add(channel);
  }

  #publishGithub(p: ResolvedProject, art: VersionArtifacts, at: number): void {
    const repo = this.github.ensureRepo(p.repo, at);
    const files: Record<string, string> = {
      "CHANGELOG.md": `# Changelog\n\n## [${art.version}] - ${new Date(art.commitAt).toISOString().slice(0, 10)}\n\n- Release ${art.version}.\n`,
    };
    // The manifests `monitor init` reads at the tag: the crate, and the npm and Python bindings beside it.
    if (p.crate) {
      files["Cargo.toml"] =
        `[package]\nname = "${p.crate}"\nversion = "${art.version}"\nedition = "2024"\nlicense = "${p.license}"\n`;
    }
    if (p.npm) files[p.npmManifestPath] = `${JSON.stringify({ name: p.npm, version: art.version }, null, 2)}\n`;
    if (p.pypi) files[p.pypiManifestPath] = `[project]\nname = "${p.pypi}"\nversion = "${art.version}"\n`;
    Object.assign(files, p.repoFiles);
    if (p.targetsManifest !== null) files[p.targetsManifestPath] = p.targetsManifest;
    const commit = repo.commit(files, `release: ${art.tag}`, art.commitAt);
    repo.addTag(art.tag, commit.sha, !art.options.lightweightTag, art.commitAt + MINUTE, `${art.tag}\n`);
    const prov = art.options.provenance;
    if (prov?.source === "main") {
      // Built and published from main after the tag: release metadata source_sha is this commit, not the tag's.
      const later = repo.commit(
        { "NOTES.md": `post-release ${art.tag}\n` },
        `chore: after ${art.tag}`,
        art.commitAt + 2 * MINUTE,
      );
      art.sourceCommit = later.sha;
    }
    if (prov?.source === "main" || prov?.buildRun === true) {
      this.actions.recordBuildRun(p.repo, {
        tag: art.tag,
        version: art.version,
        sourceSha: art.sourceCommit ?? commit.sha,
        fromMain: prov.source === "main",
        at: art.commitAt + 3 * MINUTE,
      });
    }
    if (art.options.githubRelease === false) return;
    const draft = art.options.draft ?? false;
    const assets: ReleaseAsset[] = [];
    let t = at;
    for (const planned of art.assets) {
      if (art.omitted.includes(planned.name) || (planned.platform && art.omitted.includes(planned.platform))) continue;
      t += 1000;
      const id = this.github.nextAssetId();
      assets.push({
        id,
        nodeId: nodeId("RA", id),
        name: planned.name,
        label: "",
        state: "uploaded",
        contentType: planned.contentType,
        content: planned.content,
        digest: planned.digest,
        downloadCount: 0,
        createdAt: t,
        updatedAt: t,
        uuid: uuidFrom(hashId("asset", id, planned.name)),
      });
    }
    const id = this.github.nextReleaseId();
    const release: Release = {
      id,
      nodeId: nodeId("RE", id),
      tagName: art.tag,
      name: art.tag,
      body: art.options.releaseBody ?? defaultReleaseBody(p, art),
      draft,
      prerelease: art.options.prerelease ?? isPrerelease(art.version),
      immutable: repo.immutableReleases && !draft,
      targetCommitish: "main",
      createdAt: art.commitAt,
      publishedAt: draft ? null : at,
      updatedAt: t,
      assets,
      hidden: false,
    };
    repo.releases.push(release);
  }

  #publishCrate(p: ResolvedProject, art: VersionArtifacts, at: number): void {
    if (!p.crate || !art.crate) throw new Error(`${p.name} has no crate`);
    const record = this.crates.ensure(
      p.crate,
      {
        description: p.description,
        repository: `https://github.com/${p.repo}`,
        homepage: `https://github.com/${p.repo}`,
      },
      at,
    );
    record.versions.push({
      id: this.crates.nextVersionId(),
      num: art.version,
      content: art.crate,
      checksum: art.crate.sha256(),
      createdAt: at,
      updatedAt: at,
      yanked: false,
      yankMessage: null,
      hidden: false,
      license: p.license,
      rustVersion: "1.85",
      edition: "2024",
      features: { default: [] },
      links: null,
      downloads: 0,
      auditActions: [{ action: "publish", at }],
    });
    record.updatedAt = Math.max(record.updatedAt, at);
  }

  #publishNpm(p: ResolvedProject, art: VersionArtifacts, at: number): void {
    if (!p.npm || !art.npmTarball) throw new Error(`${p.name} has no npm package`);
    const pkg = this.npm.ensure(p.npm, {
      description: p.description,
      license: p.license,
      repository: { type: "git", url: `git+https://github.com/${p.repo}.git` },
      homepage: `https://github.com/${p.repo}#readme`,
      bugs: { url: `https://github.com/${p.repo}/issues` },
      keywords: [p.name],
      maintainers: [
        { name: p.repo.split("/")[0] ?? p.name, email: `${p.repo.split("/")[0] ?? p.name}@users.noreply.example` },
      ],
      readme: `# ${p.name}\n\n${p.description}\n`,
      readmeFilename: "README.md",
    });
    const d = art.npmTarball.digests();
    const integrity = `sha512-${d.sha512Base64}`;
    const unscoped = p.npm.includes("/") ? p.npm.slice(p.npm.indexOf("/") + 1) : p.npm;
    pkg.versions.set(art.version, {
      version: art.version,
      content: art.npmTarball,
      integrity,
      shasum: d.sha1,
      fileCount: 14,
      unpackedSize: art.npmTarball.size * 3 + 117,
      publishedAt: at,
      signature: this.npm.signer.sign(p.npm, art.version, integrity),
      hidden: false,
      manifest: {
        description: p.description,
        license: p.license,
        main: "index.js",
        bin: { [unscoped]: "bin/cli.js" },
        engines: { node: ">=24" },
        repository: { type: "git", url: `git+https://github.com/${p.repo}.git` },
        gitHead: hashId("commit-of", p.repo, art.tag),
      },
    });
    pkg.events.push({ at, kind: "publish", version: art.version });
    const tag = art.options.npmDistTag ?? (isPrerelease(art.version) ? "next" : "latest");
    pkg.events.push({ at, kind: "dist-tag", tag, version: art.version });
  }

  #publishPypi(p: ResolvedProject, art: VersionArtifacts, at: number): void {
    if (!p.pypi) throw new Error(`${p.name} has no PyPI project`);
    const project = this.pypi.ensure(p.pypi, {
      summary: p.description,
      license: p.license,
      homepage: `https://github.com/${p.repo}`,
      source: `https://github.com/${p.repo}`,
      owner: p.repo.split("/")[0] ?? p.name,
      requiresPython: ">=3.10",
    });
    const omit = art.options.omitPypiFiles ?? [];
    const files: PypiFile[] = art.pypiFiles
      .filter((f) => !omit.includes(f.filename) && !omit.includes(f.platform ?? "sdist"))
      .map((f, i) => ({
        filename: f.filename,
        packagetype: f.packagetype,
        pythonVersion: f.pythonVersion,
        content: f.content,
        uploadedAt: at + i * 1537,
        requiresPython: ">=3.10",
      }));
    const version = toPep440(art.version);
    project.releases.set(version, { version, files, yanked: false, yankedReason: null, createdAt: at, hidden: false });
    this.pypi.touch(project);
  }

  #publishFormula(p: ResolvedProject, art: VersionArtifacts, at: number, mode: FormulaMode): boolean {
    if (!p.tap) throw new Error(`${p.name} has no tap`);
    const tap = this.github.ensureRepo(p.tap, at);
    if (mode === "stale") return false;
    if (mode === "none") {
      tap.commit({ [p.formulaPath]: null }, `${p.name}: remove formula`, at);
      return true;
    }
    const text = mode === "aligned" ? this.#formulaFor(p, art, false) : this.#formulaFor(p, art, true);
    tap.commit({ [p.formulaPath]: text }, `${p.name}: update to ${art.version}`, at);
    return true;
  }

  // ------------------------------------------------------------------ mutations

  yank(channel: "crates" | "pypi", project: string, version: string, reason?: string): void {
    this.#setYanked(channel, project, version, true, reason ?? null);
  }

  unyank(channel: "crates" | "pypi", project: string, version: string): void {
    this.#setYanked(channel, project, version, false, null);
  }

  #setYanked(
    channel: "crates" | "pypi",
    project: string,
    version: string,
    yanked: boolean,
    reason: string | null,
  ): void {
    const p = this.project(project);
    const now = this.now();
    if (channel === "crates") {
      const v = this.crates.get(p.crate ?? "")?.versions.find((x) => x.num === version);
      if (!v) throw new Error(`crates: ${p.crate} ${version} not published`);
      v.yanked = yanked;
      v.yankMessage = yanked ? reason : null;
      v.updatedAt = now;
      v.auditActions.push({ action: yanked ? "yank" : "unyank", at: now });
      return;
    }
    const pp = this.pypi.get((p.pypi ?? "").replace(/[-_.]+/g, "-").toLowerCase());
    const release = pp?.releases.get(toPep440(version));
    if (!pp || !release) throw new Error(`pypi: ${p.pypi} ${version} not published`);
    release.yanked = yanked;
    release.yankedReason = yanked ? reason : null;
    this.pypi.touch(pp);
  }

  /** `npm deprecate`; an empty message un-deprecates. */
  deprecate(project: string, version: string, message: string): void {
    const p = this.project(project);
    const pkg = this.npm.get(p.npm ?? "");
    if (!pkg?.versions.has(version)) throw new Error(`npm: ${p.npm}@${version} not published`);
    pkg.events.push({ at: this.now(), kind: "deprecate", version, message });
  }

  setDistTag(project: string, tag: string, version: string): void {
    const p = this.project(project);
    const pkg = this.npm.get(p.npm ?? "");
    if (!pkg?.versions.has(version)) throw new Error(`npm: ${p.npm}@${version} not published`);
    pkg.events.push({ at: this.now(), kind: "dist-tag", tag, version });
  }

  /** Commit arbitrary formula text to the tap (null deletes the file). */
  setFormulaText(project: string, text: string | null): void {
    const p = this.project(project);
    if (!p.tap) throw new Error(`${project} has no tap`);
    this.github.ensureRepo(p.tap, this.now()).commit({ [p.formulaPath]: text }, `${p.name}: edit formula`, this.now());
  }

  /** The formula text on the tap's default branch (null when absent). */
  formulaText(project: string): string | null {
    const p = this.project(project);
    if (!p.tap) return null;
    return this.github.ensureRepo(p.tap, this.now()).head()?.files.get(p.formulaPath)?.toString("utf8") ?? null;
  }

  /** Re-date a published GitHub release (where grace windows start): a test moves the window instead of waiting it out. */
  setReleasePublishedAt(project: string, version: string, at: number | Date | string): void {
    const p = this.project(project);
    const art = this.artifacts(project, version);
    const release = this.github.ensureRepo(p.repo, this.now()).releases.find((r) => r.tagName === art.tag);
    if (!release || release.publishedAt === null) throw new Error(`github: no published release ${art.tag}`);
    release.publishedAt = toMs(at);
    release.updatedAt = this.now();
  }

  /**
   * Propagation delay: a hidden version answers like a missing one on that channel (GitHub: the release; crates:
   * API and index; npm: packument and version doc; PyPI: both JSON endpoints). Homebrew has no such state: publish
   * with `formula: "stale"` and bump it later with `publishChannel`.
   */
  setHidden(channel: ChannelId, project: string, version: string, hidden: boolean): void {
    const p = this.project(project);
    const art = this.artifacts(project, version);
    switch (channel) {
      case "github": {
        const release = this.github.ensureRepo(p.repo, this.now()).releases.find((r) => r.tagName === art.tag);
        if (!release) throw new Error(`github: no release ${art.tag}`);
        release.hidden = hidden;
        return;
      }
      case "crates": {
        const v = this.crates.get(p.crate ?? "")?.versions.find((x) => x.num === version);
        if (!v) throw new Error(`crates: ${p.crate} ${version} not published`);
        v.hidden = hidden;
        return;
      }
      case "npm": {
        const v = this.npm.get(p.npm ?? "")?.versions.get(version);
        if (!v) throw new Error(`npm: ${p.npm}@${version} not published`);
        v.hidden = hidden;
        return;
      }
      case "pypi": {
        const release = this.pypi
          .get((p.pypi ?? "").replace(/[-_.]+/g, "-").toLowerCase())
          ?.releases.get(toPep440(version));
        if (!release) throw new Error(`pypi: ${p.pypi} ${version} not published`);
        release.hidden = hidden;
        return;
      }
      case "homebrew":
        throw new Error(
          "setHidden: homebrew has no propagation delay; publish with formula: 'stale' and use publishChannel",
        );
    }
  }

  /** Run `fn` after `delayMs` (real time); pending timers are cleared by close(). Returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void {
    if (this.#closed) throw new Error("world is closed");
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      try {
        fn();
      } catch (err) {
        this.scheduleErrors.push(err);
      }
    }, delayMs);
    this.#timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    };
  }

  pendingTimers(): number {
    return this.#timers.size;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/**
 * What cargo-dist attaches beside the archives: the shell and PowerShell installers, dist-manifest.json,
 * source.tar.gz with its sidecar, and the unified sha256.sum over every archive and the source (`<hex>  <name>`).
 */
function cargoDistFiles(
  p: ResolvedProject,
  version: string,
  tag: string,
  archiveSums: readonly string[],
  seed: (name: string) => string,
  opts: PublishOptions,
): PlannedAsset[] {
  const digestOf = (c: Content) => (opts.nullDigest ? null : `sha256:${c.sha256()}`);
  const text = (name: string, body: string, contentType: string): PlannedAsset => {
    const content = Content.fixed(body);
    return { name, platform: null, contentType, content, digest: digestOf(content) };
  };
  const source = Content.generated(seed("source.tar.gz"), p.assetBytes);
  const manifest = {
    dist_version: "0.28.0",
    announcement_tag: tag,
    releases: [{ app_name: p.name, app_version: version }],
  };
  const sumLines = [...archiveSums, `${source.sha256()}  source.tar.gz`].sort((a, b) =>
    a.slice(66) < b.slice(66) ? -1 : 1,
  );
  return [
    text(`${p.name}-installer.sh`, `#!/bin/sh\n# installer for ${p.name} ${version}\n`, "text/x-sh"),
    text(`${p.name}-installer.ps1`, `# installer for ${p.name} ${version}\n`, "application/octet-stream"),
    text("dist-manifest.json", `${JSON.stringify(manifest)}\n`, "application/json"),
    {
      name: "source.tar.gz",
      platform: null,
      contentType: "application/gzip",
      content: source,
      digest: digestOf(source),
    },
    sidecarAsset("source.tar.gz.sha256", source.sha256(), "source.tar.gz", opts),
    text("sha256.sum", sumLines.map((l) => `${l}\n`).join(""), "text/plain"),
  ];
}

/** cargo-dist's sidecar: `<hex> *<name>` (sha256sum's binary mode) and a blank line, as its write_checksum_file does. */
function sidecarAsset(name: string, hex: string, of: string, opts: PublishOptions): PlannedAsset {
  const content = Content.fixed(`${hex} *${of}\n\n`);
  return {
    name,
    platform: null,
    contentType: "application/octet-stream",
    content,
    digest: opts.nullDigest ? null : `sha256:${content.sha256()}`,
  };
}

function contentTypeFor(name: string): string {
  if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) return "application/gzip";
  if (name.endsWith(".tar.xz")) return "application/x-xz";
  if (name.endsWith(".zip")) return "application/zip";
  if (name.endsWith(".txt")) return "text/plain";
  if (name.endsWith(".json")) return "application/json";
  if (name.endsWith(".sh")) return "text/x-sh";
  return "application/octet-stream";
}

function uuidFrom(hex: string): string {
  const h = hex.padEnd(32, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function defaultReleaseBody(p: ResolvedProject, art: VersionArtifacts): string {
  const [owner] = p.repo.split("/");
  const lines = [
    `## [${art.version}] - ${new Date(art.commitAt).toISOString().slice(0, 10)}`,
    "",
    `- Release ${art.version}.`,
    "",
    "## Install",
    "",
  ];
  if (p.tap) lines.push(`- Homebrew: \`brew install ${owner}/tap/${p.name}\``);
  lines.push(`- From source: \`cargo install --git https://github.com/${p.repo} --tag ${art.tag} ${p.name}\``);
  return lines.join("\n");
}
