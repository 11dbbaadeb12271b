import type { z } from "zod";
import type { Draft } from "../drift/findings.ts";
import type { Finding } from "../drift/types.ts";
import type { PlanBase, Probe, ProbeContext, ProbeEndpoints } from "../probes/types.ts";
import type { NpmrcView } from "../config/npmrc.ts";
import { AppError } from "../errors.ts";
import type { AssetInference } from "../discover/assets.ts";
import type { Candidate, KeptChannel, RegistryAnswer } from "../discover/judge.ts";
import type { ServiceName } from "../sim/services.ts";
import type { ChannelProvenance } from "../provenance/gather.ts";

/**
 * One delivery channel: everything the phases need to know about it. Each channel is one folder
 * (src/channels/<id>/) exporting one `Channel`; src/channels/registry.ts lists them in display order, and the
 * config schema, the plan, the evaluator, the reporters, the status page, metrics, evidence and `--channel` iterate
 * that list. This module sits below the channels: it never imports one.
 */

// ------------------------------------------------------------------ what other channels look like

/** Another channel's part of this run, as a check of a different channel sees it. */
export type PeerView<O> =
  | { state: "observed"; observation: O }
  /** The channel's probe ran and could not tell. */
  | { state: "failed"; code: string }
  /** The channel is configured but was not probed in this run (channel filter). */
  | { state: "not-checked" }
  | { state: "not-configured" };

/** Names a channel by its Channel object, so a cross-channel read is typed by that channel's own types. */
export interface ObservedBy<O> {
  readonly id: string;
  readonly probe: { observe(...args: never[]): Promise<O> };
}
export interface PlannedBy<P> {
  readonly id: string;
  plan(...args: never[]): P;
}

/** Other channels of this run (a Homebrew formula is checked against the GitHub release). */
export interface CheckPeers {
  view<O>(channel: ObservedBy<O>): PeerView<O>;
}

/** Pieces of the plan already built (the registry builds them in its order). */
export interface PlanPeers {
  plan<P>(channel: PlannedBy<P>): P | null;
}

// ------------------------------------------------------------------ config

/** The project around a channel block, for cross-field rules. */
export interface RuleProject {
  /** Set when the project declares a targets manifest (per-channel platforms default to it). */
  targets_manifest?: string | undefined;
}

// ------------------------------------------------------------------ settings (endpoints)

/** What an endpoint block is read with besides the block itself (a LoadedConfig satisfies it). */
export interface EndpointInputs {
  /** npm's own configuration, read once on first use; null when not consulted (--sim). */
  readonly npmrc: (() => Promise<NpmrcView>) | null;
}

/** A per-host request limit a registry imposes (crates.io: one API request per second). */
export interface HostLimit {
  concurrency: number;
  min_interval_ms: number;
}

/**
 * The channel's `settings.<id>` block (where its registry lives) and what its probe reads from it. The block is
 * strict and every field is optional or defaulted: the block itself defaults to its parse of `{}`.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the defaults let a registry hold blocks of any types */
export interface ChannelSettings<B = any, E = any> {
  readonly schema: z.ZodType<B>;
  /** `ProbeContext.endpoints[<id>]`: the probe's view of the parsed block. */
  endpoints(block: B, inputs: EndpointInputs): E;
  /** Values in the block that are secrets (registered before anything logs). */
  secrets?(block: B): readonly (string | null | undefined)[];
  /** Limits on hosts of the block, applied unless `settings.http.host_limits` names the host. */
  hostLimits?(block: B): Readonly<Record<string, HostLimit>>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The probe context's endpoints of one channel (the runtime builds them from its `settings.<id>` block). */
export function endpointsOf<E>(endpoints: ProbeEndpoints, channel: { readonly id: string }): E {
  const e = endpoints[channel.id];
  if (e === undefined) throw new AppError("E_CONFIG_INVALID", `settings.${channel.id}: no endpoints configured`);
  return e as E;
}

// ------------------------------------------------------------------ plan

export interface PlanContext<S = unknown> {
  release: PlanBase;
  /** Template variables every channel shares: version, tag, repo, project, name, project_underscore. */
  vars: Readonly<Record<string, string>>;
  /** How file names spell a platform id (the project's `platform_names`, else the id itself). */
  platformName(platform: string): string;
  /** The explicit platform list, else the targets manifest's official platforms for `manifestChannel`. */
  platforms(explicit: readonly string[] | undefined, manifestChannel: string): string[];
  /** The monitor's settings (each channel declares the part it reads as `S`). */
  settings: S;
  peers: PlanPeers;
}

// ------------------------------------------------------------------ check

/** Input of one channel's check: the release, that channel's part of the plan, and what the channel said. */
export interface CheckInput<P, O> {
  plan: PlanBase;
  expected: P;
  observation: O;
  /** Resolved `plan.expect_latest` ("auto" already decided). */
  expectLatest: boolean;
  peers: CheckPeers;
  /**
   * True while this channel's grace window is open (the clock is the evaluation's `now`). Checks that report a
   * different finding once the window closes (not merely a different severity) read it; others use `lag()`.
   */
  inGrace: boolean;
}

/** Where grace windows start, or why there is no start. */
export type GraceStart =
  | { kind: "at"; ms: number }
  /** Nothing to wait for (no published release, or the anchor is not part of this run): lag is drift. */
  | { kind: "none" }
  /** The anchor could not be read: lag cannot be told from drift; `why` is appended to such findings. */
  | { kind: "unknown"; why: string };

/** What the release's anchor channel (the one whose publication starts every grace window) says about the release. */
export interface ReleaseAnchor {
  start: GraceStart;
  /** report@1 `published_at`. */
  published_at: string | null;
  /** The anchor calls this tag its latest release (decides `expect_latest: "auto"`). */
  latest: boolean;
}

// ------------------------------------------------------------------ report

/** What a channel's one-line summary reads (reports may come back from JSON written by another version). */
export interface SummaryInput {
  tag: string;
  version: string;
  findings: readonly Finding[];
  /** report@1 `observed` of the channel, read leniently. */
  observed: Readonly<Record<string, unknown>>;
}

// ------------------------------------------------------------------ discovery (`monitor init`)

/** What `monitor init` knows when a channel looks for candidates of its own (a Homebrew tap). */
export interface DiscoverInput {
  owner: string;
  repo: string;
  /** Names the project may go by: the repository name, then the manifests' package names. */
  names: readonly string[];
}

/**
 * A channel's part of `monitor init` (src/channels/<id>/discover.ts): whether its registry holds a release under a
 * name, by the channel's own probe. "Not there" is `missing`; a registry that could not tell is `unknown`.
 */
export interface ChannelDiscovery {
  /** Candidates the channel finds by itself, besides the repository's manifests (Homebrew: the tap's formula). */
  find?(input: DiscoverInput, ctx: ProbeContext): Promise<Candidate[]>;
  lookup(name: string, release: PlanBase, ctx: ProbeContext): Promise<RegistryAnswer>;
  /**
   * What the config block needs beyond the kept candidate, read after judging (Homebrew: the formula's platforms
   * and urls); handed to `ChannelInit.block` as `details`. Asked for every kept candidate, also one the registry
   * could not verify (`kept.could_not_verify`): the channel decides what it can still tell.
   */
  details?(kept: KeptChannel, release: InitRelease, ctx: ProbeContext): Promise<unknown>;
}

/** One repository file a channel reads its candidate names from (`Cargo.toml`); the file is parsed for it. */
export interface ManifestReader {
  /** The file's base name. */
  readonly file: string;
  readonly format: "toml" | "json";
  /** Package names the document publishes on this channel, and further manifests to read (repo-root paths). */
  read(doc: Readonly<Record<string, unknown>>, path: string): { names: string[]; more?: string[] };
}

/** The release `monitor init` writes a config for. */
export interface InitRelease {
  repo: string;
  tag: string;
  version: string;
  /** The text before the version in the tag (`v`). */
  tag_prefix: string;
  assets: AssetInference;
  /** The repository's targets manifest (`release/targets.json`) when it has one: platforms then default to it. */
  targets_manifest: string | null;
}

/** What a channel's config block is written from. */
export interface InitBlockInput {
  release: InitRelease;
  /** The channel's kept candidate; undefined when judging kept none. */
  kept: KeptChannel | undefined;
  /** What `ChannelDiscovery.details` returned for it (undefined: not asked, or nothing read). */
  details: unknown;
}

export interface InitBlock {
  /** The `channels.<id>` block; null: none is written (the notes say why). */
  block: Record<string, unknown> | null;
  /** Comments on the block (or, without one, in the trailer). */
  notes: string[];
  /** The block spells platforms through the project's `platform_names` (init then writes them). */
  usesPlatformNames?: boolean;
}

/**
 * `monitor init`'s pure pieces of a channel (src/channels/<id>/init.ts), loaded with the registry: keep them free
 * of I/O and heavy modules (the repository files are parsed by src/discover).
 */
export interface ChannelInit {
  readonly manifests?: readonly ManifestReader[];
  /** Names the project may go by, from this channel's candidate names (npm: the scope dropped); none: not used. */
  projectNames?(names: readonly string[]): string[];
  block(input: InitBlockInput): InitBlock;
}

// ------------------------------------------------------------------ the channel

/* eslint-disable @typescript-eslint/no-explicit-any -- the defaults let a registry hold channels of any types */
export interface Channel<
  Id extends string = string,
  C = any,
  P = any,
  O extends { channel: Id } = any,
  S = any,
  B = any,
  E = any,
> {
  readonly id: Id;
  /** Plain name for people: the evidence report's Delivery Verification lines. */
  readonly evidenceLabel: string;
  /** Column header of the status page (and its narrow-screen card label). */
  readonly statusColumn: string;
  /** Default propagation grace (a duration), counted from the anchor's publication. */
  readonly defaultGrace: string;
  /** The monitor's `settings.<id>` block (the channel's registry endpoints); none: the channel has no block. */
  readonly settings?: ChannelSettings<B, E>;
  /** The project's `channels.<id>` block: strict, errors name the path. */
  readonly config: z.ZodType<C>;
  /** Templates in the block, for the unknown-placeholder rule: [path below channels.<id>, template]. */
  templates?(config: C): readonly (readonly [string, string | null | undefined])[];
  /** Cross-field rules on the block: each issue is `<path below channels.<id>>: message`. */
  rules?(config: C, project: RuleProject): string[];
  /** Pure: the block (plus the release and settings) to what the release should look like on this channel. */
  plan(config: C, ctx: PlanContext<S>): P;
  /** Asks the channel (I/O); raw observations, no judging. */
  readonly probe: Probe<Id, P, O>;
  /** Pure: findings from the plan piece and the observation. */
  check(input: CheckInput<P, O>): Draft[];
  /** report@1 `observed`: a compact account of what the channel says. */
  observed(observation: O): object;
  /** A few words for text, Markdown and the status page, e.g. `v0.8.0 latest, 3/3 assets, sums ok`. */
  summary(input: SummaryInput): string;
  /** Set on the one channel whose publication starts every grace window (GitHub). */
  anchor?(view: PeerView<O>, release: PlanBase): ReleaseAnchor;
  /** The publish workflow's dispatch input that skips this channel's job (`--skip-channel`); none: not bypassable. */
  readonly publishSkipInput?: string;
  /** Provenance evidence gathering and comparison (src/channels/<id>/provenance.ts); none: no provenance row. */
  readonly provenance?: ChannelProvenance;
  /** `monitor init`'s discovery for this channel, loaded on first use; none: init never configures it by itself. */
  readonly discover?: () => Promise<ChannelDiscovery>;
  /** `monitor init`'s manifest readers and config block for this channel; none: init writes no block for it. */
  readonly init?: ChannelInit;
  /** The simulated services (src/sim/services/*) that stand in for this channel in the demo and the tests. */
  readonly sim: { readonly services: readonly ServiceName[] };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Type helper: checks a channel object against the interface while keeping its precise types. */
export function defineChannel<Id extends string, C, P, O extends { channel: Id }, S = unknown, B = never, E = never>(
  channel: Channel<Id, C, P, O, S, B, E>,
): Channel<Id, C, P, O, S, B, E> {
  return channel;
}

/**
 * A probe whose module loads on first use: the registry (and so `--channel` help) stays free of the HTTP client,
 * Octokit and worker threads until a channel is actually asked. The load runs once (a daemon observes every channel
 * of every project each cycle, and an import() of a loaded module still goes through the module loader); a failed
 * load is not kept, so the next observation tries again.
 */
export function lazyProbe<Id extends string, P, O extends { channel: Id }>(
  channel: Id,
  load: () => Promise<Probe<Id, P, O>>,
): Probe<Id, P, O> {
  let loading: Promise<Probe<Id, P, O>> | null = null;
  return {
    channel,
    async observe(plan, ctx) {
      loading ??= load().catch((err: unknown) => {
        loading = null;
        throw err;
      });
      return (await loading).observe(plan, ctx);
    },
  };
}
