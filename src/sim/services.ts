/** The simulated hosts. Each one is its own loopback server (own port, so its own host). */
export const SERVICES = [
  "github-api",
  "github-web",
  "github-download",
  "crates-api",
  "crates-index",
  "crates-static",
  "npm",
  "pypi",
  "pypi-files",
  "github-blobs",
  "sigstore",
] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface SimUrls {
  githubApi: string;
  githubWeb: string;
  githubDownload: string;
  cratesApi: string;
  cratesIndex: string;
  cratesStatic: string;
  npm: string;
  pypi: string;
  pypiFiles: string;
  /** GitHub's attestation blob storage (`bundle_url`). */
  githubBlobs: string;
  /** The sim's Sigstore trust (trusted_root.json, npm keys). */
  sigstore: string;
}

export const URL_KEY: Record<ServiceName, keyof SimUrls> = {
  "github-api": "githubApi",
  "github-web": "githubWeb",
  "github-download": "githubDownload",
  "crates-api": "cratesApi",
  "crates-index": "cratesIndex",
  "crates-static": "cratesStatic",
  npm: "npm",
  pypi: "pypi",
  "pypi-files": "pypiFiles",
  "github-blobs": "githubBlobs",
  sigstore: "sigstore",
};

/** Placeholder bases until `startSim` has bound the ports. */
export const UNBOUND_URLS: SimUrls = {
  githubApi: "http://github-api.sim.invalid",
  githubWeb: "http://github-web.sim.invalid",
  githubDownload: "http://github-download.sim.invalid",
  cratesApi: "http://crates-api.sim.invalid",
  cratesIndex: "http://crates-index.sim.invalid",
  cratesStatic: "http://crates-static.sim.invalid",
  npm: "http://npm.sim.invalid",
  pypi: "http://pypi.sim.invalid",
  pypiFiles: "http://pypi-files.sim.invalid",
  githubBlobs: "http://github-blobs.sim.invalid",
  sigstore: "http://sigstore.sim.invalid",
};
