import type { Incident } from "../alerts/types.ts";
import { DEFAULT_REGISTRY, type ChannelId, type ChannelRegistry } from "../channels/registry.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import type { DaemonStatus, ProjectStatus } from "../daemon/daemon.ts";
import type { Status } from "../drift/types.ts";
import type { ProvenanceBlock } from "../report/types.ts";
import type { ChannelState, ChannelTransition, CycleRecord, StateStore } from "../state/types.ts";
import type { DaemonView } from "./types.ts";

/**
 * What the status page, the project page and the JSON API show, gathered once per request from the daemon's
 * status() and the state store. Reports are the stored report@1 objects, embedded as they are.
 */

export const STATUS_SCHEMA = "release-monitor/status@1";
export const PROJECT_SCHEMA = "release-monitor/project@1";

/** One channel of one release on the timeline. */
export interface TimelineChannel {
  channel: ChannelId;
  /** Current status of the channel for that tag; null when it was never checked. */
  status: Status | null;
  /** First check that saw the channel `ok` (from the channel history, else the state's live_at). */
  live_at: string | null;
  /** live_at − published_at in seconds; null until live or when GitHub gave no published_at. */
  delay_seconds: number | null;
  /**
   * True when the channel was already live at its first check for the tag: the delay then only says "no later
   * than" (the daemon saw the tag after the channel went live).
   */
  delay_is_upper_bound: boolean;
}

export interface TimelineRelease {
  tag: string;
  version: string | null;
  published_at: string | null;
  /** When the daemon first saw the tag as the latest release. */
  first_seen: string | null;
  channels: TimelineChannel[];
}

export interface ProjectSummary extends ProjectStatus {
  /** Channels the project's config checks, in display order. */
  channels_configured: ChannelId[];
  /** Channel states of the current tag (status since, live_at). */
  channel_states: ChannelState[];
  /** Most recent releases first. */
  releases: TimelineRelease[];
  /** The latest report's provenance block (report@1 `provenance`); null without a report or provenance checks. */
  provenance: ProvenanceBlock | null;
}

export interface StatusSnapshot {
  schema: typeof STATUS_SCHEMA;
  generated_at: string;
  daemon: { started_at: string | null; running: boolean; last_successful_cycle_at: string | null };
  projects: ProjectSummary[];
  /** Open registry-degraded incidents (project "*"). */
  degraded: Incident[];
  outbox_depth: Record<string, number>;
}

export interface ProjectDetail {
  schema: typeof PROJECT_SCHEMA;
  generated_at: string;
  project: ProjectSummary;
  /** Status transitions of the current tag. */
  channel_history: ChannelTransition[];
  /** Every incident of the project, open and resolved (candidates included), newest first. */
  incidents: Incident[];
  /** Recent cycles, newest first. */
  cycles: CycleRecord[];
}

export interface ViewDeps {
  daemon: DaemonView;
  store: StateStore;
  loaded: LoadedConfig;
  now: () => Date;
  /** The channels the config was loaded with (columns, cards, summaries). */
  registry: ChannelRegistry;
}

const STATUS_PAGE_RELEASES = 5;
const PROJECT_PAGE_RELEASES = 20;
const PROJECT_PAGE_CYCLES = 20;

/** The channels the project's config names, in registry order. */
export function configuredChannels(project: ProjectConfig, registry: ChannelRegistry = DEFAULT_REGISTRY): ChannelId[] {
  const blocks = project.channels as Readonly<Record<string, unknown>>;
  return registry.ids.filter((c) => blocks[c] !== undefined) as ChannelId[];
}

export async function statusSnapshot(deps: ViewDeps): Promise<StatusSnapshot> {
  const status = await deps.daemon.status();
  const projects = await Promise.all(status.projects.map((p) => summarize(deps, p, STATUS_PAGE_RELEASES)));
  return {
    schema: STATUS_SCHEMA,
    generated_at: deps.now().toISOString(),
    daemon: {
      started_at: status.started_at,
      running: status.running,
      last_successful_cycle_at: status.last_successful_cycle_at,
    },
    projects,
    degraded: status.degraded,
    outbox_depth: status.outbox_depth,
  };
}

/** null when no project has that name. */
export async function projectDetail(deps: ViewDeps, name: string): Promise<ProjectDetail | null> {
  const status: DaemonStatus = await deps.daemon.status();
  const p = status.projects.find((x) => x.project === name);
  if (!p) return null;
  const summary = await summarize(deps, p, PROJECT_PAGE_RELEASES);
  const incidents = (await deps.store.incidents(name)).sort((a, b) =>
    b.last_seen > a.last_seen ? 1 : b.last_seen < a.last_seen ? -1 : a.id.localeCompare(b.id),
  );
  return {
    schema: PROJECT_SCHEMA,
    generated_at: deps.now().toISOString(),
    project: summary,
    channel_history: p.tag ? await deps.store.channelHistory(name, p.tag) : [],
    incidents,
    cycles: await deps.store.cycles(name, PROJECT_PAGE_CYCLES),
  };
}

export function projectNames(loaded: LoadedConfig): string[] {
  return loaded.config.projects.map((p) => p.name);
}

async function summarize(deps: ViewDeps, p: ProjectStatus, releases: number): Promise<ProjectSummary> {
  const config = deps.loaded.config.projects.find((c) => c.name === p.project);
  const channels = config
    ? configuredChannels(config, deps.registry)
    : (p.report?.channels.map((c) => c.channel) ?? []);
  return {
    ...p,
    channels_configured: channels,
    channel_states: p.tag ? await deps.store.channelStates(p.project, p.tag) : [],
    releases: await timeline(deps.store, p.project, channels, releases),
    provenance: p.report?.provenance ?? null,
  };
}

/** The project's recent releases from the channel states and history kept in the state store. */
export async function timeline(
  store: Pick<StateStore, "channelStates" | "release" | "channelHistory">,
  project: string,
  channels: readonly ChannelId[],
  limit: number,
): Promise<TimelineRelease[]> {
  const byTag = new Map<string, ChannelState[]>();
  for (const s of await store.channelStates(project)) {
    const list = byTag.get(s.tag) ?? [];
    list.push(s);
    byTag.set(s.tag, list);
  }
  const tags = [...byTag.entries()];
  const stored = await Promise.all(
    tags.map(async ([tag]) => ({
      rec: await store.release(project, tag),
      history: await store.channelHistory(project, tag),
    })),
  );
  const releases = tags.map(([tag, states], i): TimelineRelease => {
    const { rec, history } = stored[i] ?? { rec: null, history: [] };
    const published = rec?.published_at ?? null;
    return {
      tag,
      version: rec?.version ?? null,
      published_at: published,
      first_seen: rec?.first_seen ?? null,
      channels: channels.map((channel) => {
        const state = states.find((s) => s.channel === channel) ?? null;
        const mine = history.filter((h) => h.channel === channel);
        const firstOk = mine.find((h) => h.to === "ok") ?? null;
        const liveAt = firstOk?.at ?? state?.live_at ?? null;
        const delay = published && liveAt ? Math.max(0, (Date.parse(liveAt) - Date.parse(published)) / 1000) : null;
        const firstSeen = mine[0] ?? null;
        return {
          channel,
          status: state?.status ?? null,
          live_at: liveAt,
          delay_seconds: delay !== null && Number.isFinite(delay) ? Math.round(delay) : null,
          delay_is_upper_bound: liveAt !== null && (firstSeen === null || firstSeen.to === "ok"),
        };
      }),
    };
  });
  const key = (r: TimelineRelease) => r.published_at ?? r.first_seen ?? "";
  releases.sort((a, b) => (key(b) > key(a) ? 1 : key(b) < key(a) ? -1 : b.tag.localeCompare(a.tag)));
  return releases.slice(0, limit);
}
