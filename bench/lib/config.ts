/** monitor.yaml files for the bench: default HTTP settings (the real limits), endpoints from the sim's overlay. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { benchProjectName, GITHUB_PLATFORMS, HOMEBREW_PLATFORMS, WHEEL_PLATFORMS } from "./worlds.ts";

interface Overlay {
  github: { api_url: string; download_hosts: string[]; token?: string };
  crates: { api_url: string; index_url: string };
  npm: { registry: string };
  pypi: { url: string };
  /** The sim's Sigstore trust as files: without them the daemon asks TUF, gets no root offline, and every signature is unknown. */
  provenance?: { trusted_root?: string; npm_keys?: string };
}

export interface ConfigOptions {
  /** Extra `settings` keys (merged one level deep: `watch`, `http`, …). */
  settings?: Record<string, Record<string, unknown> | string>;
}

function settingsFrom(overlay: Record<string, unknown>, options: ConfigOptions): Record<string, unknown> {
  const o = overlay as unknown as Overlay;
  const base: Record<string, Record<string, unknown> | string> = {
    github: {
      api_url: o.github.api_url,
      download_hosts: o.github.download_hosts,
      ...(o.github.token ? { token: o.github.token } : {}),
    },
    crates: { api_url: o.crates.api_url, index_url: o.crates.index_url },
    npm: { registry: o.npm.registry },
    pypi: { url: o.pypi.url },
    ...(o.provenance ? { provenance: { ...o.provenance } } : {}),
  };
  for (const [k, v] of Object.entries(options.settings ?? {})) {
    const prev = base[k];
    base[k] = typeof v === "object" && typeof prev === "object" ? { ...prev, ...v } : v;
  }
  return base;
}

/** plasmite with all five channels, as test/helpers/cli.ts configures it (no targets manifest). */
export function plasmiteProject(): Record<string, unknown> {
  return {
    name: "plasmite",
    repo: "sandover/plasmite",
    channels: {
      github: {
        platforms: ["linux_amd64", "darwin_amd64", "darwin_arm64"],
        assets: ["plasmite_{version}_{platform}.tar.gz"],
        checksums: "sha256sums.txt",
      },
      crates: { crate: "plasmite" },
      npm: { package: "plasmite" },
      pypi: { project: "plasmite", platforms: ["darwin_amd64", "darwin_arm64", "windows_amd64"] },
      homebrew: {
        tap: "sandover/homebrew-tap",
        formula: "Formula/plasmite.rb",
        platforms: ["darwin_arm64", "darwin_amd64", "linux_amd64"],
        url: "https://github.com/{repo}/releases/download/{tag}/plasmite_{version}_{platform}.tar.gz",
      },
    },
  };
}

/** The 1 GiB asset project: GitHub only. */
export function deepProject(): Record<string, unknown> {
  return {
    name: "big",
    repo: "bench/big",
    channels: {
      github: { platforms: ["linux_amd64"], assets: ["big_{version}_{platform}.tar.gz"], checksums: "sha256sums.txt" },
    },
  };
}

/** Project i of the scale world (bench/lib/worlds.ts), all five channels. */
export function scaleProject(i: number): Record<string, unknown> {
  const name = benchProjectName(i);
  return {
    name,
    repo: `bench/${name}`,
    channels: {
      github: {
        platforms: GITHUB_PLATFORMS,
        assets: [`${name}_{version}_{platform}.tar.gz`],
        checksums: "sha256sums.txt",
      },
      crates: { crate: name },
      npm: { package: name },
      pypi: { project: name, platforms: WHEEL_PLATFORMS },
      homebrew: {
        tap: `bench/homebrew-${name}`,
        formula: `Formula/${name}.rb`,
        platforms: HOMEBREW_PLATFORMS,
        url: `https://github.com/{repo}/releases/download/{tag}/${name}_{version}_{platform}.tar.gz`,
      },
    },
  };
}

export function writeConfig(
  dir: string,
  name: string,
  overlay: Record<string, unknown>,
  projects: Record<string, unknown>[],
  options: ConfigOptions = {},
): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    stringify(
      { version: 1, settings: settingsFrom(overlay, options), projects },
      { lineWidth: 0, aliasDuplicateObjects: false },
    ),
  );
  return path;
}
