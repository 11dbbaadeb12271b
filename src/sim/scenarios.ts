import {
  applyPackageScenario,
  applyWorldExtras,
  npmLibProject,
  PACKAGE_SCENARIOS,
  pythonProject,
  type PackageScenarioName,
} from "./package-worlds.ts";
import { toMs } from "./time.ts";
import type { ProjectSpec } from "./spec.ts";
import type { World } from "./world.ts";

/**
 * plasmite as the reference describes it (plasmite-release.md §10, §11): repo sandover/plasmite, tap
 * sandover/homebrew-tap `Formula/plasmite.rb`, crate/npm/PyPI `plasmite`, SDK tarballs for linux_amd64,
 * darwin_amd64, darwin_arm64, wheels for darwin_amd64, darwin_arm64, windows_amd64, release/targets.json at each tag.
 */
export function plasmiteProject(overrides: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    name: "plasmite",
    repo: "sandover/plasmite",
    tap: "sandover/homebrew-tap",
    formulaPath: "Formula/plasmite.rb",
    crate: "plasmite",
    npm: "plasmite",
    pypi: "plasmite",
    githubPlatforms: ["darwin_amd64", "darwin_arm64", "linux_amd64"],
    homebrewPlatforms: ["darwin_arm64", "darwin_amd64", "linux_amd64"],
    wheelPlatforms: ["darwin_amd64", "darwin_arm64", "windows_amd64"],
    description: "Persistent JSON message queues with a CLI and native SDK",
    license: "MIT",
    formulaInstall: [
      'bin.install "bin/plasmite", "bin/pls"',
      'include.install "include/plasmite.h"',
      'lib.install "lib/libplasmite.dylib", "lib/libplasmite.a"',
      '(lib/"pkgconfig").install "lib/pkgconfig/plasmite.pc"',
    ],
    formulaTest: ['system bin/"plasmite", "--version"', 'system bin/"pls", "--version"'],
    ...overrides,
  };
}

/**
 * A GoReleaser Go CLI: archives `<name>_<version>_<Os>_<arch>.tar.gz` (GoReleaser's default name template, with its
 * `title .Os` and `x86_64` spellings), `checksums.txt`, a tap formula and no package registries.
 */
export function goreleaserProject(overrides: Partial<ProjectSpec> = {}): ProjectSpec {
  const platforms = ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"];
  return {
    name: "skiff",
    repo: "tidepool/skiff",
    tap: "tidepool/homebrew-tap",
    formulaPath: "Formula/skiff.rb",
    crate: null,
    npm: null,
    pypi: null,
    githubPlatforms: platforms,
    homebrewPlatforms: platforms,
    wheelPlatforms: [],
    platformNames: {
      darwin_amd64: "Darwin_x86_64",
      darwin_arm64: "Darwin_arm64",
      linux_amd64: "Linux_x86_64",
      linux_arm64: "Linux_arm64",
    },
    assetName: "{name}_{version}_{platform}.tar.gz",
    checksumsName: "checksums.txt",
    targetsManifest: null,
    description: "A small Go CLI released with GoReleaser",
    license: "Apache-2.0",
    formulaInstall: ['bin.install "skiff"'],
    formulaTest: ['system "#{bin}/skiff", "--version"'],
    ...overrides,
  };
}

/**
 * A cargo-dist Rust tool: `<name>-<rust-target>.tar.xz` archives (no version in the name), each with a `.sha256`
 * sidecar (`<hex> *<name>`), the installers, dist-manifest.json, source.tar.gz and the unified sha256.sum beside them, a cargo-dist-generated tap formula (`if OS.mac?` /
 * `Hardware::CPU.arm?`), and the crate on crates.io.
 */
export function cargoDistProject(overrides: Partial<ProjectSpec> = {}): ProjectSpec {
  const platforms = ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"];
  return {
    name: "rivet",
    repo: "ferrous/rivet",
    tap: "ferrous/homebrew-tap",
    formulaPath: "Formula/rivet.rb",
    crate: "rivet",
    npm: null,
    pypi: null,
    githubPlatforms: platforms,
    homebrewPlatforms: platforms,
    wheelPlatforms: [],
    platformNames: {
      darwin_amd64: "x86_64-apple-darwin",
      darwin_arm64: "aarch64-apple-darwin",
      linux_amd64: "x86_64-unknown-linux-gnu",
      linux_arm64: "aarch64-unknown-linux-gnu",
    },
    assetName: "{name}-{platform}.tar.xz",
    checksumsName: "",
    sidecarSuffix: ".sha256",
    cargoDistFiles: true,
    formulaStyle: "cargo-dist",
    targetsManifest: null,
    description: "A small Rust CLI released with cargo-dist",
    license: "MIT OR Apache-2.0",
    ...overrides,
  };
}

/** The sim's worlds: each a project shape; the scenarios script its releases. */
export const WORLDS = {
  plasmite: plasmiteProject,
  goreleaser: goreleaserProject,
  "cargo-dist": cargoDistProject,
  "npm-lib": npmLibProject,
  python: pythonProject,
} as const;
export type WorldName = keyof typeof WORLDS;

export const SCENARIOS = [
  { name: "clean", description: "0.7.2 and 0.8.0 fully published on every channel; 0.8.0 two hours ago" },
  {
    name: "partial",
    description: "0.8.0 on GitHub and crates.io only (1 h ago): npm and PyPI missing, formula still 0.7.2",
  },
  { name: "partial-fresh", description: "like partial, but published just now (inside the propagation grace)" },
  { name: "stale-formula", description: "0.8.0 everywhere (2 h ago) except the tap formula, still at 0.7.2" },
  { name: "crate-missing", description: "0.8.0 everywhere (2 h ago) except crates.io, which never got it" },
  { name: "yanked", description: "clean, then crates.io 0.8.0 yanked" },
  { name: "healing", description: "partial now; npm, PyPI and the formula catch up after healAfterMs (default 60 s)" },
  {
    name: "checksum-mismatch",
    description: "clean, but sha256sums.txt (cargo-dist: the .sha256 sidecar) disagrees with the darwin_arm64 tarball",
  },
  {
    name: "digest-mismatch",
    description: "clean, but the API digest of the linux_amd64 asset disagrees with its bytes",
  },
  { name: "missing-asset", description: "clean, but the linux_amd64 tarball was never uploaded" },
  { name: "null-digest", description: "clean, but GitHub advertises digest: null (pre-2025 assets): hash by download" },
  { name: "npm-deprecated", description: "clean, then npm plasmite@0.8.0 deprecated" },
  { name: "formula-placeholder", description: "clean, but the formula for 0.8.0 carries PLACEHOLDER sha256 values" },
  {
    name: "draft",
    description: "0.8.0 uploaded as a draft release two hours ago and never published; registries and tap updated",
  },
  {
    name: "provenance-hand-published",
    description: "clean, but npm 0.8.0 was published by hand (no attestation, no trusted publisher); 0.7.2 had both",
  },
  {
    name: "provenance-other-workflow",
    description: "clean, but the GitHub assets' build attestation comes from .github/workflows/nightly.yml",
  },
  {
    name: "provenance-wrong-commit",
    description: "clean, but the GitHub assets were built from a commit that is not the tag's",
  },
  { name: "provenance-tampered", description: "clean, but the GitHub build attestation's signature was tampered with" },
  {
    name: "provenance-crates-run-mismatch",
    description:
      "clean, but the Actions run crates.io's trustpub_data.run_id names ran nightly.yml on another commit than the tag's",
  },
  {
    name: "provenance-bundle-url",
    description: "clean, with GitHub attestations served as bundle: null + bundle_url (Snappy JSON on the blob host)",
  },
  {
    name: "plasmite-today",
    description: "clean, as plasmite publishes today: no GitHub build attestations, PyPI and crates.io with tokens",
  },
  {
    name: "provenance-build-metadata",
    description:
      "clean, but built and published from main after the tag: every attestation names the release metadata's source_sha, not the tag's commit",
  },
  {
    name: "provenance-repository-mismatch",
    description: "clean, but npm 0.8.0 was published from a fork (forker/plasmite): its provenance names the fork",
  },
  {
    name: "provenance-release-attestation-mismatch",
    description:
      "clean, on an immutable release whose release attestation leaves out the linux_amd64 tarball (subjects != asset set)",
  },
  {
    name: "no-trusted-root",
    description: "clean, but no Sigstore trusted root can be had (offline, no cache): signatures are unknown",
  },
] as const;

export type ScenarioName = (typeof SCENARIOS)[number]["name"] | PackageScenarioName;

/** The scenarios a world accepts: the shared ones, and those of PACKAGE_SCENARIOS that name it. */
export function scenariosOf(world: WorldName): { name: ScenarioName; description: string }[] {
  return [...SCENARIOS, ...PACKAGE_SCENARIOS.filter((s) => (s.worlds as readonly string[]).includes(world))];
}

export interface ScenarioOptions {
  /** Reference time for the scenario's publish times (default: the world's clock). */
  now?: number | Date | string;
  /** `healing`: delay before the missing channels arrive (default 60 000 ms). */
  healAfterMs?: number;
  /** Overrides for the project spec (e.g. assetBytes). */
  project?: Partial<ProjectSpec>;
  /** The world whose project shape the scenario publishes (default plasmite). */
  world?: WorldName;
}

export interface ScenarioResult {
  project: string;
  /** The release under watch. */
  version: string;
  tag: string;
  previousVersion: string;
  /** `healing`: when the missing channels arrive (epoch ms). */
  healsAt: number | null;
  /** `healing`: publish the missing channels now (cancels the timer; once only). Null for other scenarios. */
  heal: (() => void) | null;
  /** `healing`: settles once the missing channels have arrived (by the timer or `heal`). */
  healed: Promise<void> | null;
}

const HOUR = 3_600_000;

/** plasmite's release today: no build attestations on GitHub; PyPI and crates.io published with tokens. */
const PLASMITE_TODAY = { github: null, pypi: null, crates: null } as const;

/** `partial` and `healing`: what is out first, and what arrives late (each world has the ones it has). */
const EARLY_CHANNELS = ["github", "crates"] as const;
const LATE_CHANNELS = ["npm", "pypi", "homebrew"] as const;

const LABELS: Readonly<Record<string, string>> = {
  github: "GitHub",
  crates: "crates.io",
  npm: "npm",
  pypi: "PyPI",
  homebrew: "the tap formula",
};

/** `healing` in words for the project's world: `out on GitHub and crates.io only; npm, PyPI and the tap formula arrive`. */
export function healingStory(world: World, project: string): string {
  const has = world.channelsOf(project);
  const words = (ids: readonly string[]): string => {
    const l = ids.map((id) => LABELS[id] ?? id);
    return l.length <= 1 ? (l[0] ?? "nothing") : `${l.slice(0, -1).join(", ")} and ${l.at(-1) ?? ""}`;
  };
  const early = EARLY_CHANNELS.filter((c) => has.includes(c));
  const late = LATE_CHANNELS.filter((c) => has.includes(c));
  return `out on ${words(early)} only; ${words(late)} ${late.length === 1 ? "arrives" : "arrive"}`;
}

/** The heal of the `healing` scenario: a timer, a way to fire it early, and a promise that settles when it ran. */
function healingControl(world: World, project: string, delayMs: number): Pick<ScenarioResult, "heal" | "healed"> {
  let resolve: () => void = () => {};
  const healed = new Promise<void>((r) => (resolve = r));
  let done = false;
  const heal = (): void => {
    if (done) return;
    done = true;
    cancel();
    for (const channel of LATE_CHANNELS) {
      if (world.channelsOf(project).includes(channel)) world.publishChannel(project, "0.8.0", channel);
    }
    resolve();
  };
  const cancel = world.schedule(delayMs, heal);
  return { heal, healed };
}

export function isScenarioName(name: string): name is ScenarioName {
  return SCENARIOS.some((s) => s.name === name) || PACKAGE_SCENARIOS.some((s) => s.name === name);
}

/** Put plasmite into one of the named states. The project is added if the world does not have it yet. */
export function applyScenario(world: World, name: ScenarioName, options: ScenarioOptions = {}): ScenarioResult {
  if (!isScenarioName(name))
    throw new Error(`unknown scenario ${String(name)}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const now = options.now === undefined ? world.now() : toMs(options.now);
  const worldName = options.world ?? "plasmite";
  const spec = WORLDS[worldName](options.project);
  if (!world.hasProject(spec.name)) world.addProject(spec);
  const project = spec.name;
  // plasmite as it is today published 0.7.2 the same way (so no downgrade); every other scenario attested it fully.
  world.publish(project, "0.7.2", {
    publishedAt: now - 26 * HOUR,
    ...(name === "plasmite-today" ? { provenance: PLASMITE_TODAY } : {}),
  });
  const result: ScenarioResult = {
    project,
    version: "0.8.0",
    tag: "v0.8.0",
    previousVersion: "0.7.2",
    healsAt: null,
    heal: null,
    healed: null,
  };
  const twoHoursAgo = now - 2 * HOUR;
  const early = world.channelsOf(project).filter((c) => (EARLY_CHANNELS as readonly string[]).includes(c));
  switch (name) {
    case "clean":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo });
      break;
    case "partial":
      world.publish(project, "0.8.0", { publishedAt: now - HOUR, channels: early });
      break;
    case "partial-fresh":
      world.publish(project, "0.8.0", { publishedAt: now, channels: early });
      break;
    case "stale-formula":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, formula: "stale" });
      break;
    case "crate-missing":
      world.publish(project, "0.8.0", {
        publishedAt: twoHoursAgo,
        channels: world.channelsOf(project).filter((c) => c !== "crates"),
      });
      break;
    case "yanked":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo });
      world.yank("crates", project, "0.8.0", "broken build");
      break;
    case "healing": {
      world.publish(project, "0.8.0", { publishedAt: now - HOUR, channels: early });
      const delay = options.healAfterMs ?? 60_000;
      result.healsAt = now + delay;
      Object.assign(result, healingControl(world, project, delay));
      break;
    }
    case "checksum-mismatch":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, corruptChecksumFor: "darwin_arm64" });
      break;
    case "digest-mismatch":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, corruptDigestFor: "linux_amd64" });
      break;
    case "missing-asset":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, omitAssets: ["linux_amd64"] });
      break;
    case "null-digest":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, nullDigest: true });
      break;
    case "npm-deprecated":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo });
      world.deprecate(project, "0.8.0", "0.8.0 has a broken native loader; use 0.8.1");
      break;
    case "formula-placeholder":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, formula: "placeholder" });
      break;
    case "draft":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, draft: true });
      break;
    case "provenance-hand-published":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, provenance: { npm: null } });
      break;
    case "provenance-other-workflow":
      world.publish(project, "0.8.0", {
        publishedAt: twoHoursAgo,
        provenance: { github: { workflow: ".github/workflows/nightly.yml", ref: "refs/heads/main" } },
      });
      break;
    case "provenance-wrong-commit":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, provenance: { github: { commit: "other" } } });
      break;
    case "provenance-crates-run-mismatch":
      world.publish(project, "0.8.0", {
        publishedAt: twoHoursAgo,
        provenance: { crates: { run: { workflow: ".github/workflows/nightly.yml", commit: "other" } } },
      });
      break;
    case "provenance-tampered":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, provenance: { github: { tamper: true } } });
      break;
    case "provenance-bundle-url":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, provenance: { github: { bundleUrl: true } } });
      break;
    case "plasmite-today":
      world.publish(project, "0.8.0", {
        publishedAt: twoHoursAgo,
        provenance: PLASMITE_TODAY,
      });
      break;
    case "provenance-build-metadata":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, provenance: { source: "main" } });
      break;
    case "provenance-repository-mismatch":
      world.publish(project, "0.8.0", {
        publishedAt: twoHoursAgo,
        provenance: { npm: { repository: "forker/plasmite" } },
      });
      break;
    case "provenance-release-attestation-mismatch": {
      const repo = world.github.ensureRepo(spec.repo, now);
      repo.immutableReleases = true;
      repo.attestationOmits.add("plasmite_0.8.0_linux_amd64.tar.gz");
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo });
      break;
    }
    case "no-trusted-root":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo });
      world.attestations.serveTrustedRoot = false;
      break;
    default:
      applyPackageScenario(world, name, project, now);
  }
  applyWorldExtras(world, worldName, project, now);
  return result;
}
