import type { Sim } from "./index.ts";

/**
 * A monitor config (YAML) for the plasmite project with every endpoint pointing at a running sim and fast HTTP
 * settings: what `monitor release --sim` writes for its rehearsal, and what the tests use.
 */

export interface SimConfigOptions {
  /** Extra YAML under `settings:` (indented by the caller with 2 spaces). */
  settings?: string;
  /** Extra YAML appended to the plasmite project (4-space indented keys). */
  project?: string;
  token?: string | null;
}

/** A monitor config for the plasmite project pointing every endpoint at `sim`, with fast HTTP settings. */
/** The `projects:` block for plasmite as the sim serves it (every channel, the sim's platforms). */
export const PLASMITE_PROJECTS_YAML = `projects:
  - name: plasmite
    repo: sandover/plasmite
    channels:
      github:
        platforms: [linux_amd64, darwin_amd64, darwin_arm64]
        assets: ["plasmite_{version}_{platform}.tar.gz"]
        checksums: sha256sums.txt
      crates: { crate: plasmite }
      npm: { package: plasmite }
      pypi:
        project: plasmite
        platforms: [darwin_amd64, darwin_arm64, windows_amd64]
      homebrew:
        tap: sandover/homebrew-tap
        formula: Formula/plasmite.rb
        platforms: [darwin_arm64, darwin_amd64, linux_amd64]
        url: "https://github.com/{repo}/releases/download/{tag}/plasmite_{version}_{platform}.tar.gz"
`;

export function simConfigYaml(sim: Sim, options: SimConfigOptions = {}): string {
  const o = sim.settingsOverlay() as {
    github: { api_url: string; download_hosts: string[] };
    crates: { api_url: string; index_url: string };
    npm: { registry: string };
    pypi: { url: string };
    provenance: { trusted_root: string; npm_keys: string };
  };
  return `version: 1
settings:
  github:
    api_url: ${o.github.api_url}
    download_hosts: [${o.github.download_hosts.join(", ")}]
${options.token ? `    token: ${options.token}\n` : ""}  crates:
    api_url: ${o.crates.api_url}
    index_url: ${o.crates.index_url}
    api_min_interval: "0"
  npm:
    registry: ${o.npm.registry}
  pypi:
    url: ${o.pypi.url}
  provenance:
    trusted_root: ${o.provenance.trusted_root}
    npm_keys: ${o.provenance.npm_keys}
  http:
    retries: 1
    retry_base: 10ms
    request_timeout: 1500ms
    headers_timeout: 1500ms
    body_timeout: 1500ms
    max_retry_wait: 2s
${options.settings ?? ""}
${PLASMITE_PROJECTS_YAML}${options.project ?? ""}`;
}
