import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simTrustedRoot } from "./provenance/ca.ts";
import { startService, type RunningService, type ServiceDef, type ServiceRuntime } from "./server.ts";
import { SERVICES, URL_KEY, type ServiceName, type SimUrls } from "./services.ts";
import { cratesApiService } from "./services/crates-api.ts";
import { cratesIndexService, cratesStaticService } from "./services/crates-index.ts";
import { githubApiService } from "./services/github-api.ts";
import { githubDownloadService } from "./services/github-download.ts";
import { githubWebService } from "./services/github-web.ts";
import { npmService } from "./services/npm.ts";
import { githubBlobsService, sigstoreService, simNpmKeysTarget } from "./services/provenance.ts";
import { pypiFilesService, pypiService } from "./services/pypi.ts";
import { SimStats } from "./stats.ts";
import type { WorldOptions } from "./spec.ts";
import { World } from "./world.ts";

export { World } from "./world.ts";
export type {
  ExtraAsset,
  FormulaMode,
  PlannedAsset,
  ProjectSpec,
  PublishOptions,
  ResolvedProject,
  VersionArtifacts,
  WorldOptions,
} from "./spec.ts";
export { SimStats, credentialFingerprint } from "./stats.ts";
export { ActionsStore, plasmiteWorkflows } from "./model-actions.ts";
export type { ScriptedOutcome, WorkflowDef, WorkflowRunRecord } from "./model-actions.ts";
export type { RequestLogEntry, ServiceCounters } from "./stats.ts";
export { FAULT_KINDS, FaultSet } from "./faults.ts";
export type { FaultHandle, FaultKind, FaultSpec } from "./faults.ts";
export { SERVICES } from "./services.ts";
export type { ServiceName, SimUrls } from "./services.ts";
export { SCENARIOS, applyScenario, plasmiteProject } from "./scenarios.ts";
export type { ScenarioName, ScenarioOptions, ScenarioResult } from "./scenarios.ts";

export interface StartSimOptions {
  /** Delay before every response (ms). */
  latencyMs?: number;
  /** When a string, the GitHub API accepts only this token (others: 401) and settingsOverlay() carries it. */
  githubToken?: string | null;
  /** An existing world, or options for a new one. */
  world?: World | WorldOptions;
  /** Request log length (default 1000). */
  logLimit?: number;
}

export interface Sim {
  world: World;
  urls: SimUrls;
  /**
   * Partial `settings` (src/config/schema.ts SettingsConfig keys) pointing every endpoint at the sim:
   * github.api_url, github.download_hosts (web + download host), github.token (when the sim has one),
   * crates.api_url, crates.index_url, npm.registry, pypi.url, and provenance.trusted_root / npm_keys: the sim's
   * Sigstore trust as files (written to a temp dir at start, removed by close()), so a daemon or `verify` on a config
   * file verifies the sim's attestations offline instead of asking TUF for the public-good root. The same trust is
   * served at `${urls.sigstore}/trusted_root.json` and `/keys.json` (what --sim uses).
   */
  settingsOverlay(): Record<string, unknown>;
  stats: SimStats;
  setLatency(ms: number): void;
  /** Handler exceptions answered as 500 (a sim bug, not a scripted fault). */
  errors: unknown[];
  close(): Promise<void>;
}

type Factory = (rt: ServiceRuntime) => ServiceDef;

/** Start every simulated registry on its own loopback port. */
export async function startSim(options: StartSimOptions = {}): Promise<Sim> {
  const world = options.world instanceof World ? options.world : new World(options.world);
  const stats = new SimStats(options.logLimit);
  let latency = options.latencyMs ?? 0;
  const token = options.githubToken ?? null;
  const rt: ServiceRuntime = { world, stats, latency: () => latency, errors: [] };
  const factories: Record<ServiceName, Factory> = {
    "github-api": (r) => githubApiService(r, { token }),
    "github-web": githubWebService,
    "github-download": githubDownloadService,
    "crates-api": cratesApiService,
    "crates-index": cratesIndexService,
    "crates-static": cratesStaticService,
    npm: npmService,
    pypi: pypiService,
    "pypi-files": pypiFilesService,
    "github-blobs": githubBlobsService,
    sigstore: sigstoreService,
  };
  const running: RunningService[] = [];
  try {
    for (const service of SERVICES) running.push(await startService(factories[service](rt), rt));
  } catch (err) {
    await Promise.all(running.map((s) => s.close()));
    throw err;
  }
  const urls = Object.fromEntries(running.map((s) => [URL_KEY[s.service], s.url])) as unknown as SimUrls;
  const trustDir = mkdtempSync(join(tmpdir(), "monitor-sim-trust-"));
  const trust = { trusted_root: join(trustDir, "trusted_root.json"), npm_keys: join(trustDir, "keys.json") };
  writeFileSync(trust.trusted_root, JSON.stringify(simTrustedRoot()));
  writeFileSync(trust.npm_keys, JSON.stringify(simNpmKeysTarget()));
  const hosts = Object.fromEntries(running.map((s) => [s.service, s.host])) as Record<ServiceName, string>;
  world.urls = urls;
  let closed: Promise<void> | null = null;
  return {
    world,
    urls,
    stats,
    errors: rt.errors,
    setLatency(ms) {
      latency = Math.max(0, ms);
    },
    settingsOverlay() {
      return {
        github: {
          api_url: urls.githubApi,
          download_hosts: [hosts["github-web"], hosts["github-download"], hosts["github-blobs"]],
          ...(token !== null ? { token } : {}),
        },
        crates: { api_url: urls.cratesApi, index_url: urls.cratesIndex },
        npm: { registry: `${urls.npm}/` },
        pypi: { url: urls.pypi },
        provenance: { ...trust },
      };
    },
    close() {
      closed ??= (async () => {
        world.close();
        await Promise.all(running.map((s) => s.close()));
        rmSync(trustDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
