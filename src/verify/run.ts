import type { Channel } from "../channels/channel.ts";
import {
  DEFAULT_REGISTRY,
  type ChannelId,
  type ChannelProbeResult,
  type ChannelRegistry,
} from "../channels/registry.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import { formatDuration } from "../config/duration.ts";
import { AppError, errorMessage } from "../errors.ts";
import type { HttpClient } from "../http/client.ts";
import type { GithubClientFactory } from "../http/github.ts";
import type { Logger } from "../log.ts";
import { buildPlan } from "../plan/build-plan.ts";
import { parseTargetsManifest, type TargetsManifest } from "../plan/targets-manifest.ts";
import type { ReleasePlan } from "../plan/types.ts";
import { readRepoFile } from "../http/github-contents.ts";
import type { Evidence } from "../http/evidence.ts";
import type { PlanWith, Probe, ProbeEndpoints, ProbeResult, ReleaseList } from "../probes/types.ts";
import { assembleReport } from "../report/assemble.ts";
import type { Report } from "../report/types.ts";
import { expectedIdentity, provenanceExpectations } from "../provenance/expected.ts";
import { sharedHttp, verificationCache } from "../provenance/gather.ts";
import { checkProvenance, type ProvenanceRuntime } from "../provenance/run.ts";

export interface VerifyDeps {
  http: HttpClient;
  github: GithubClientFactory;
  endpoints: ProbeEndpoints;
  log: Logger;
  now: () => Date;
  /** Probes by channel id that replace the channels' own (tests). */
  probes?: Readonly<Record<string, Probe>>;
  /** The channels to verify (default: the built-ins). */
  registry?: ChannelRegistry;
  /** Provenance checks; absent: the report has no provenance block. */
  provenance?: ProvenanceRuntime;
}

export interface VerifyOptions {
  deep?: boolean;
  /** Force version-not-latest checks on or off; default "auto" (on when GitHub's latest release is this tag). */
  expectLatest?: boolean | "auto";
  /** Restrict to these channels; others report `skipped`. */
  channels?: readonly string[];
  signal?: AbortSignal;
  /**
   * Overall deadline (ms) for this verification. When it passes, every channel not finished yet is `unknown`
   * (E_DEADLINE), and a server's Retry-After that would end past it is not sat out.
   */
  timeoutMs?: number;
  /**
   * Do not wait for answers a probe left in a process-wide queue (the crates.io API, one request per second): the
   * report comes back with what they add pending (the reason in the finding), and this receives, once, the completed
   * report, assembled from the same observations when every queued answer is in. It never rejects. Without it
   * (one-shot `verify`) the probes wait, bounded by `timeoutMs`.
   */
  onDeferred?: (completion: DeferredCompletion) => void;
  /**
   * The repository's release list the caller has just read to choose `tag` (the daemon's cycle), with that
   * exchange: the GitHub probe takes the tag's published release from it (one request fewer) and cites the
   * exchange as its evidence. Absent: the probe asks for the release by tag.
   */
  releaseList?: ReleaseList;
}

/** A report whose queued answers are still to come (VerifyOptions.onDeferred). */
export interface DeferredCompletion {
  /** The completed report, or null once released. Never rejects. */
  readonly completed: Promise<Report | null>;
  /**
   * Drop what the completion holds (the cycle's probe results and first report), e.g. when a newer cycle of the
   * project has superseded it: `completed` resolves null at once and nothing is assembled when the answers come. The queued requests themselves stay queued (their answers still fill the process caches).
   */
  release(): void;
}

/** The verification's deadline: an abort signal plus what a probe cut off by it reports. */
interface Deadline {
  signal: AbortSignal;
  /** Epoch ms, or null without a deadline. */
  at: number | null;
  /** True once the deadline itself (not the caller's signal) has fired. */
  passed(): boolean;
  timeoutMs: number;
  dispose(): void;
}

function startDeadline(timeoutMs: number | undefined, outer: AbortSignal | undefined): Deadline {
  const cut = new AbortController();
  const ms = timeoutMs ?? 0;
  const timer =
    ms > 0 ? setTimeout(() => cut.abort(new AppError("E_DEADLINE", `deadline of ${formatDuration(ms)}`)), ms) : null;
  return {
    signal: outer ? AbortSignal.any([outer, cut.signal]) : cut.signal,
    at: ms > 0 ? Date.now() + ms : null,
    passed: () => cut.signal.aborted,
    timeoutMs: ms,
    dispose: () => {
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The one verification path shared by `monitor verify`, the daemon and the release driver:
 * plan -> all channel probes concurrently -> pure drift evaluation -> report@1.
 */
export async function verifyRelease(
  deps: VerifyDeps,
  loaded: LoadedConfig,
  project: ProjectConfig,
  tag: string,
  options: VerifyOptions = {},
): Promise<Report> {
  const started = Date.now();
  const deadline = startDeadline(options.timeoutMs, options.signal);
  // Read by the probes only, through this holder, emptied when they are done: a deferred completion (minutes in a
  // cold daemon) must not keep a repository's release list alive.
  const { releaseList, ...rest } = options;
  const list: ListHolder = { current: releaseList };
  try {
    return await verifyWithin(deps, loaded, project, tag, rest, deadline, started, list);
  } finally {
    list.current = undefined;
    deadline.dispose();
  }
}

interface ListHolder {
  current: ReleaseList | undefined;
}

async function verifyWithin(
  deps: VerifyDeps,
  loaded: LoadedConfig,
  project: ProjectConfig,
  tag: string,
  options: VerifyOptions,
  deadline: Deadline,
  started: number,
  list: ListHolder,
): Promise<Report> {
  const signal = deadline.signal;
  const manifest = project.targets_manifest ? await fetchManifest(deps, project, tag, signal) : null;
  const registry = deps.registry ?? DEFAULT_REGISTRY;
  const plan = buildPlan(
    { project, settings: loaded.config.settings, tag, expectLatest: options.expectLatest ?? "auto", manifest },
    registry,
  );
  const pieces = plan as unknown as Readonly<Record<string, unknown>>;
  const wanted = (c: Channel) =>
    pieces[c.id] !== null && pieces[c.id] !== undefined && (!options.channels || options.channels.includes(c.id));
  const probeOf = (c: Channel): Probe => deps.probes?.[c.id] ?? (c.probe as Probe);
  const deferred: { index: number; observation: Promise<unknown> }[] = [];
  const channels = registry.channels.filter(wanted);
  const prov = deps.provenance;
  const expectations = prov ? provenanceExpectations(project, tag) : null;
  const provenanceOn = (c: Channel) => c.provenance !== undefined && expectations?.policy[c.id] !== "off";
  if (prov && channels.some(provenanceOn)) {
    // The verifier (Sigstore's libraries, the trusted root) loads while the probes wait on the network rather than
    // after them: a CLI's first verify spends ~0.3 s in it. Only when a channel's provenance policy is on, so a
    // config that turns provenance off still loads no Sigstore.
    // One turn later, so the probes' first requests are on the wire before it (a CLI verify's first request left
    // ~20 ms later when the verifier loaded first): checkProvenance awaits it and handles the failure.
    setImmediate(() => void prov.verifier().catch(() => undefined));
  }
  const shared = prov ? sharedHttp(prov.http) : undefined;
  const provHttp = shared?.http;
  const provCache = prov?.cache ? verificationCache(prov.cache) : undefined;
  /**
   * A channel's gatherer run as soon as its own probe answers, its result dropped: its requests (and Sigstore
   * checks, remembered by the verifier) are under way while the slower probes finish, and the real run after every
   * probe joins them (`sharedHttp`). It sees only its own observation and no expected commit, so it decides nothing;
   * it never writes a cached absence (`absenceFinal` false). Not for a channel that inherits another's items.
   */
  const gatherEarly = (c: Channel, observation: unknown): void => {
    const provenance = c.provenance;
    if (!prov || !expectations || !provHttp || !provenance || provenance.inherits !== undefined) return;
    if (observation === null || !provenanceOn(c)) return;
    void prov
      .verifier()
      .then((verifier) =>
        provenance.gather(
          {
            http: provHttp,
            verifier,
            cache: provCache,
            endpoints: prov.endpoints,
            expected: expectedIdentity(expectations, undefined),
            expectations,
            plan,
            observations: { [c.id]: observation },
            absenceFinal: false,
          },
          new Map(),
        ),
      )
      .catch(() => undefined);
  };
  /** A probe's early partial observation starts its channel's provenance lookups (`ChannelProvenance.prefetch`). */
  const prefetchFor = (c: Channel): ((partial: unknown) => void) | undefined => {
    const provenance = c.provenance;
    if (!prov || !expectations || !provHttp || !provenance?.prefetch || !provenanceOn(c)) return undefined;
    const ctx = {
      http: provHttp,
      endpoints: prov.endpoints,
      cache: provCache,
      plan,
      repository: expectations.repository,
      verifier: () => prov.verifier(),
    };
    return (partial) => {
      try {
        provenance.prefetch?.(ctx, partial);
      } catch (err) {
        deps.log.debug({ project: project.name, channel: c.id, err: errorMessage(err) }, "provenance prefetch failed");
      }
    };
  };
  const results = await Promise.all(
    channels.map((c, index) =>
      runProbe(
        deps,
        probeOf(c),
        plan,
        Boolean(options.deep),
        deadline,
        options.onDeferred ? (observation) => deferred.push({ index, observation }) : undefined,
        prefetchFor(c),
        list,
      ).then((r) => {
        gatherEarly(c, r.observation);
        return r;
      }),
    ),
  );
  const finish = async (all: readonly ProbeResult[], at: number): Promise<Report> => {
    const byChannel: { [C in ChannelId]?: ChannelProbeResult<C> } = {};
    for (const r of all) (byChannel as Record<string, ProbeResult>)[r.channel] = r;
    const checkedAt = deps.now();
    let report = assembleReport(plan, byChannel, checkedAt, 0, registry);
    if (deps.provenance) {
      const observations = Object.fromEntries(all.map((r) => [r.channel, r.observation]));
      report = await untilAborted(
        checkProvenance(deps.provenance, project, plan, observations, report, checkedAt, registry, provHttp, provCache),
        signal,
      ).catch((err: unknown) => {
        deps.log.warn({ project: project.name, tag, err: errorMessage(err) }, "provenance check failed");
        return report;
      });
    }
    return { ...report, duration_ms: Date.now() - at };
  };
  const report = await finish(results, started);
  // What the early runs shared is spent: a deferred completion (held until the crates.io API answers) keeps none of it.
  shared?.close();
  provCache?.close();
  deps.log.debug({ project: project.name, tag, status: report.status, duration_ms: report.duration_ms }, "verified");
  if (options.onDeferred && deferred.length > 0) {
    // What the completion holds, behind one reference that release() drops: the probe results (the deferred ones'
    // observations are replaced when they arrive) and the first report (the fallback). The closure below reaches
    // them only through `held`, so a released completion keeps nothing but the queued observation promises.
    let held: { results: ProbeResult[]; report: Report } | null = { results: [...results], report };
    const waits = deferred.map((d) => ({ index: d.index, observation: d.observation }));
    const completing = async (): Promise<Report | null> => {
      const arrived = await Promise.all(waits.map((d) => d.observation));
      if (!held) return null;
      const completed = held.results;
      waits.forEach((d, i) => {
        completed[d.index] = { ...(completed[d.index] as ProbeResult), observation: arrived[i] };
      });
      return finish(completed, started);
    };
    let onRelease = (): void => {};
    const released = new Promise<null>((resolve) => (onRelease = () => resolve(null)));
    const completed = Promise.race([
      completing().catch((err: unknown) => {
        deps.log.warn({ project: project.name, tag, err: errorMessage(err) }, "completing the report failed");
        return held?.report ?? null;
      }),
      released,
    ]).finally(() => {
      held = null;
    });
    options.onDeferred({
      completed,
      release: () => {
        held = null;
        onRelease();
      },
    });
  }
  return report;
}

async function runProbe(
  deps: VerifyDeps,
  probe: Probe,
  plan: ReleasePlan,
  deep: boolean,
  deadline: Deadline,
  defer: ((observation: Promise<unknown>) => void) | undefined,
  early: ((partial: unknown) => void) | undefined,
  list: ListHolder,
): Promise<ProbeResult> {
  const evidence: Evidence[] = [];
  const http = deps.http.recording(evidence, deadline.at ?? undefined);
  let cited = false;
  const readList = list.current
    ? () => {
        const current = list.current;
        if (!current) return [];
        if (!cited) evidence.push(...current.evidence);
        cited = true;
        return current.items;
      }
    : undefined;
  const started = Date.now();
  const { signal } = deadline;
  try {
    // Built on first use: most probes never call GitHub, and a deferred crates probe holds its context until the
    // API answers (minutes in a cold daemon), so an eager Octokit per probe was CPU and memory for nothing.
    let octokit: ReturnType<GithubClientFactory> | undefined;
    let log: Logger | undefined;
    const observation = await untilAborted(
      probe.observe(plan as unknown as PlanWith<string, unknown>, {
        endpoints: deps.endpoints,
        http,
        get octokit() {
          return (octokit ??= deps.github(http));
        },
        // Also on first use: a child logger costs a redaction pass over its bindings, and a steady probe logs nothing.
        get log() {
          return (log ??= deps.log.child({ channel: probe.channel, project: plan.project }));
        },
        signal,
        deep,
        ...(defer ? { defer } : {}),
        ...(early ? { early } : {}),
        ...(readList ? { releaseList: readList } : {}),
      }),
      signal,
      true,
    );
    return { channel: probe.channel, observation, error: null, evidence, duration_ms: Date.now() - started };
  } catch (err) {
    const error = deadline.passed()
      ? {
          code: "E_DEADLINE",
          message: `the verify deadline of ${formatDuration(deadline.timeoutMs)} (--timeout) passed before the ${probe.channel} check finished`,
        }
      : { code: err instanceof AppError ? err.code : "E_PROBE_FAILED", message: errorMessage(err) };
    deps.log.warn(
      { channel: probe.channel, project: plan.project, code: error.code, err: errorMessage(err) },
      "probe failed",
    );
    return { channel: probe.channel, observation: null, error, evidence, duration_ms: Date.now() - started };
  }
}

/**
 * `work`, or the signal's reason as soon as it aborts: a probe that misses the signal somewhere is still cut off.
 * With `oneTurn`, the cut comes one event-loop turn after the abort, so a probe that handles the deadline itself
 * (crates: the index verdict stands, the queued API answer is pending) returns what it has.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, oneTurn = false): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => (oneTurn ? setImmediate(() => reject(signal.reason as Error)) : reject(signal.reason as Error));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** release/targets.json at the tag, through the contents API (raw). */
async function fetchManifest(
  deps: VerifyDeps,
  project: ProjectConfig,
  tag: string,
  signal: AbortSignal,
): Promise<TargetsManifest> {
  const path = project.targets_manifest ?? "";
  const [owner = "", repo = ""] = project.repo.split("/");
  const where = `${project.repo}:${path}@${tag}`;
  const text = await readRepoFile(deps.github(deps.http), {
    owner,
    repo,
    path,
    ref: tag,
    signal,
    maxBytes: 1024 * 1024,
  });
  if (text === null) throw new AppError("E_PROBE_FAILED", `${where} does not exist (settings: targets_manifest)`);
  return parseTargetsManifest(text, where);
}
