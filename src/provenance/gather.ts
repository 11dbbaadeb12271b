/**
 * What the per-channel provenance gatherers share: their context (injected HTTP, verifier, cache, endpoints), their
 * result, and the attestation cache. Attestation results are immutable per digest, so a found-and-verified result is
 * kept and a steady daemon cycle neither asks again nor verifies again. Absence and "could not tell" are never kept.
 */
import type { ChannelId } from "../channels/registry.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { ChannelObservation } from "../channels/registry.ts";
import type { Compared, Evidence, ExpectedIdentity, ProvenanceFinding } from "./compare.ts";
import type { ProvenanceExpectations } from "./expected.ts";
import type { ProvenanceHttp } from "./fetch.ts";
import type { BundleVerifier } from "./verify.ts";

/** A key-value store for attestation results (the state store's cache role in the daemon; nothing for one-shot runs). */
export interface AttestationCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** An in-memory cache (a daemon without a state store, and tests). */
export function memoryAttestationCache(): AttestationCache & { readonly size: number } {
  const m = new Map<string, string>();
  return {
    get: (k) => Promise.resolve(m.get(k)),
    set: (k, v) => {
      m.set(k, v);
      return Promise.resolve();
    },
    get size() {
      return m.size;
    },
  };
}

export interface ProvenanceEndpoints {
  readonly githubApi: string;
  /** Authorization for the GitHub API; never sent to the bundle host. */
  readonly githubHeaders: Readonly<Record<string, string>>;
  /** Hosts a `bundle_url` may point to (settings.github.download_hosts). */
  readonly bundleHosts: readonly string[];
  readonly cratesApi: string;
  readonly pypi: string;
  /** npm's own default registry as the npm config library reports it (the sim plays it under --sim). */
  npmDefaultRegistry(): Promise<string>;
  /** Headers for a request to `url` for a package served by `registry`: its credential by npm's rule, if any. */
  npmHeadersFor(registry: string, url: string): Promise<Readonly<Record<string, string>>>;
}

export interface GatherContext {
  readonly http: ProvenanceHttp;
  /** undefined: no trusted root could be had; signatures are then `unknown`, never `verified`. */
  readonly verifier: BundleVerifier | undefined;
  readonly cache: AttestationCache | undefined;
  readonly endpoints: ProvenanceEndpoints;
  readonly expected: ExpectedIdentity;
  readonly expectations: ProvenanceExpectations;
  readonly plan: ReleasePlan;
  readonly observations: { readonly [C in ChannelId]?: ChannelObservation | null };
  /**
   * The provenance grace (from the GitHub release's published_at) is over: an absence seen now is the verdict, not
   * "not yet". Lets an optional artefact's absence (an unattested checksum file) be kept like a result.
   */
  readonly absenceFinal?: boolean;
}

/**
 * One verification's provenance requests, each sent once: a channel's `prefetch`, its gatherer run early on its
 * probe's observation (to get the round trips going while other probes still run) and the real run after every
 * probe ask the same URLs, and the later ones join the first's answers (the verifier remembers each bundle's
 * outcome, so nothing is checked twice either). Within one verification only, so nothing outlives it.
 */
export function sharedHttp(http: ProvenanceHttp): { readonly http: ProvenanceHttp; close(): void } {
  let sent: Map<string, ReturnType<ProvenanceHttp>> | null = new Map();
  return {
    http: (req) => {
      if (!sent) return http(req);
      const key = JSON.stringify([req.url, req.headers ?? {}, req.redirectHosts ?? []]);
      let p = sent.get(key);
      if (!p) {
        p = http(req);
        p.catch(() => undefined); // an early run nobody joins is not an unhandled rejection
        sent.set(key, p);
      }
      return p;
    },
    /** Forget the answers (the report is out; a deferred completion must not keep them): pass through from now. */
    close() {
      sent = null;
    },
  };
}

/**
 * What a prefetch may use: the gatherers' transport (the verification's `sharedHttp`, which the gatherer's own
 * requests then join) and cache, before the probes' observations are complete.
 */
export interface PrefetchContext {
  readonly http: ProvenanceHttp;
  readonly endpoints: ProvenanceEndpoints;
  readonly cache: AttestationCache | undefined;
  readonly plan: ReleasePlan;
  /** The repository artefacts must be built in (the expectations'): part of the cache keys. */
  readonly repository: string;
  verifier(): Promise<BundleVerifier | undefined>;
}

export interface GatheredItem {
  readonly subject: string;
  /** The artefact's sha256 the item is about (GitHub assets; what Homebrew's sha256s are matched against). */
  readonly sha256?: string;
  readonly compared: Compared;
  /** The item's findings come from the trusted-publisher policy (`trusted_publisher`) rather than the channel's. */
  readonly publisher?: boolean;
}

/** One channel's provenance evidence, compared. */
export interface Gathered {
  readonly items: readonly GatheredItem[];
  /** Findings that belong to no single item: the trusted publisher, a downgrade. */
  readonly findings: readonly ProvenanceFinding[];
  /** Why part of the evidence could not be read (e.g. the Actions run behind crates' run_id): at best unknown. */
  readonly unknown?: string;
  /** Findings of `findings` governed by `trusted_publisher` rather than the channel policy. */
  readonly publisherCodes?: readonly ProvenanceFinding["code"][];
  /** Findings that rest on an absence (lost provenance on a mirror): weighed like `provenance-missing`. */
  readonly absenceFindings?: readonly ProvenanceFinding[];
  /** Absence proves nothing here (a mirror that may strip attestations). */
  readonly absenceUnknown?: boolean;
  /** Nothing to check yet (the version is not on the channel): why. */
  readonly nothing?: string;
  /** Nothing to attest at all (a release configured without assets): why; provenance is not applicable. */
  readonly notApplicable?: string;
  /** The channel has no provenance of its own and inherits this channel's (Homebrew: the GitHub assets'). */
  readonly inherited?: string;
}

export interface ChannelProvenance {
  readonly channel: ChannelId;
  /** A channel with no provenance of its own: the id of the one whose per-artefact items it is handed. */
  readonly inherits?: string;
  /** The anchor channel: the tag's peeled commit from its observation (the expected commit under `commit: tag`). */
  tagCommit?(observation: ChannelObservation | null): string | undefined;
  gather(ctx: GatherContext, inherited: ReadonlyMap<string, GatheredItem>): Promise<Gathered>;
  /**
   * Start the lookups `gather` will make from what the channel's probe handed over early (`ProbeContext.early`):
   * GitHub's attestations from the release document's asset digests, one round trip into the probe instead of
   * two after it. Must not throw; `gather` stays correct whatever it did.
   */
  prefetch?(ctx: PrefetchContext, partial: unknown): void;
}

// ------------------------------------------------------------------ evidence cache (Maps survive as entries)

function replacer(_k: string, v: unknown): unknown {
  return v instanceof Map ? { __map: [...(v as Map<unknown, unknown>).entries()] } : v;
}
function reviver(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === "object" && "__map" in v) return new Map((v as { __map: [unknown, unknown][] }).__map);
  return v;
}

/**
 * Evidence for `key` from the cache, else `make()`; only verified or invalid attestations are kept, and, with
 * `keepNone`, a definite "none" (for an artefact that needs no attestation, once its absence is final: asking again
 * every cycle could only tell that it is still not attested).
 */
export async function cachedEvidence(
  cache: AttestationCache | undefined,
  key: string,
  make: () => Promise<readonly Evidence[]>,
  options: { keepNone?: boolean } = {},
): Promise<readonly Evidence[]> {
  const hit = cache ? await readEvidence(cache, key) : undefined;
  if (hit !== undefined) return hit;
  const evidence = await make();
  const none = options.keepNone === true && evidence.length === 1 && evidence[0]?.kind === "none";
  const final =
    none || (evidence.length > 0 && evidence.every((e) => e.kind === "attestation" && e.signature !== "unknown"));
  if (cache && final) await cache.set(key, JSON.stringify(evidence, replacer));
  return evidence;
}

/** Each verification's reads of the cache (`verificationCache`): key → the parsed entry, or undefined for a miss. */
const READS = new WeakMap<AttestationCache, Map<string, Promise<readonly Evidence[] | undefined>>>();

/** The entry for `key`, parsed; through a verification's view, read from the store once whoever asks. */
function readEvidence(cache: AttestationCache, key: string): Promise<readonly Evidence[] | undefined> {
  // The reviver visits every value; most entries hold no Map, and steady cycles read one per artefact.
  const read = () =>
    cache
      .get(key)
      .then((hit) =>
        hit === undefined
          ? undefined
          : ((hit.includes('"__map"') ? JSON.parse(hit, reviver) : JSON.parse(hit)) as Evidence[]),
      );
  const reads = READS.get(cache);
  return reads ? joined(reads, key, read) : read();
}

/** The promise `reads` holds for `key`, else `make()`'s, kept there; a rejected one is dropped (asked again later). */
function joined<T>(reads: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = reads.get(key);
  if (!p) {
    const mine = make();
    reads.set(key, mine);
    mine.catch(() => {
      if (reads.get(key) === mine) reads.delete(key);
    });
    p = mine;
  }
  return p;
}

/**
 * One verification's view of the attestation cache: each entry is read from the store once, and each piece of
 * evidence parsed once, whoever asks (a channel's prefetch, its gatherer's early run on its probe's answer, the real
 * run after every probe: the same keys up to three times, every one a hit in a steady daemon cycle). What it stores
 * is what its later reads see. `close()` forgets the reads (the report is out; a deferred completion must not keep
 * them).
 */
export function verificationCache(cache: AttestationCache): AttestationCache & { close(): void } {
  let raw: Map<string, Promise<string | undefined>> | null = new Map();
  const view = {
    get(key: string): Promise<string | undefined> {
      return raw ? joined(raw, key, () => cache.get(key)) : cache.get(key);
    },
    async set(key: string, value: string): Promise<void> {
      await cache.set(key, value);
      raw?.set(key, Promise.resolve(value));
      READS.get(view)?.delete(key);
    },
    close(): void {
      raw = null;
      READS.delete(view);
    },
  };
  READS.set(view, new Map());
  return view;
}

/**
 * Starts `fetch` for every key at once (once per distinct key) and hands back the promise of a key: a gatherer that
 * walks its artefacts in order then waits one round trip for all of them, not one per artefact (issue 16: three
 * assets and a checksum file cost four round trips after the probes). A rejection still reaches whoever awaits the
 * key; one nobody awaits (the walk ended early) is not an unhandled rejection.
 */
export function startAll<T>(keys: readonly string[], fetch: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const started = new Map<string, Promise<T>>();
  const get = (key: string): Promise<T> => {
    let p = started.get(key);
    if (!p) {
      p = fetch(key);
      p.catch(() => undefined); // handled here so a key nobody awaits cannot crash the process
      started.set(key, p);
    }
    return p;
  };
  for (const k of keys) void get(k);
  return get;
}
