/**
 * `monitor init`'s I/O (docs/discovery.md): the release, the repository's manifests at its tag, each registry's
 * answer and the tap, then the pure pieces (assets, repo-files, judge, write-config) decide. Registry lookups are the
 * channels' own (src/channels/<id>/discover.ts, through the registry); nothing here knows a registry's API.
 */
import { z } from "zod";
import type { ChannelDiscovery } from "../channels/channel.ts";
import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { AppError, UsageError, errorMessage } from "../errors.ts";
import { readRepoFile } from "../http/github-contents.ts";
import { githubGet } from "../http/github.ts";
import type { PlanBase, ProbeContext } from "../probes/types.ts";
import { quote } from "../quote.ts";
import { inferAssets } from "./assets.ts";
import { candidateKey, judgeCandidates, type Candidate, type RegistryAnswer } from "./judge.ts";
import { pickRepoFiles, readRepoFiles, readTargetsJson } from "./repo-files.ts";
import type { DiscoveryResult } from "./write-config.ts";

const MAX_FILE_BYTES = 256 * 1024;

const ReleaseBody = z.object({
  tag_name: z.string(),
  draft: z.boolean(),
  prerelease: z.boolean(),
  published_at: z.string().nullable(),
  assets: z.array(z.object({ name: z.string() })),
});
const TreeBody = z.object({ tree: z.array(z.object({ path: z.string(), type: z.string() })), truncated: z.boolean() });

export interface DiscoverOptions {
  tag?: string;
  settings: Record<string, unknown> | null;
  /** A line per step (a TTY's progress). */
  progress?: (line: string) => void;
  registry?: ChannelRegistry;
}

export interface Discovery {
  result: DiscoveryResult;
  /** Things init could not tell (a registry down, a tap unreadable): exit 3, the channel kept with a comment. */
  unknown: string[];
  problems: string[];
}

function parseSlug(slug: string): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})?)\/([A-Za-z0-9._-]{1,100})$/.exec(slug);
  if (!m) throw new UsageError(`repository: ${quote(slug)} is not owner/name (e.g. sandover/plasmite)`);
  return { owner: m[1]!, repo: m[2]! };
}

export async function discoverProject(slug: string, ctx: ProbeContext, o: DiscoverOptions): Promise<Discovery> {
  const { owner, repo } = parseSlug(slug);
  const say = o.progress ?? (() => {});
  const registry = o.registry ?? DEFAULT_REGISTRY;
  const gh = ctx.octokit;
  const signal = { request: { signal: ctx.signal } };

  say(`repository ${slug}`);
  const meta = await githubGet(slug, () => gh.rest.repos.get({ owner, repo, ...signal }));
  if (meta === null)
    throw new UsageError(`repository ${quote(slug)}: not found on GitHub (or not visible to the token)`);

  say("releases");
  const raw = await githubGet(`${slug} releases`, () =>
    gh.rest.repos.listReleases({ owner, repo, per_page: 100, ...signal }),
  );
  const releases = z.array(ReleaseBody).safeParse(raw ?? []);
  if (!releases.success) throw new AppError("E_UPSTREAM_MALFORMED", `${slug} releases: unexpected answer`);
  const published = releases.data.filter((r) => !r.draft && !r.prerelease);
  const release = o.tag
    ? releases.data.find((r) => r.tag_name === o.tag && !r.draft)
    : published.sort((a, b) => (b.published_at ?? "").localeCompare(a.published_at ?? ""))[0];
  if (!release) {
    throw new UsageError(
      o.tag
        ? `--tag: ${slug} has no published release ${quote(o.tag)}`
        : `${slug} has no published release (drafts and pre-releases do not count): publish one, or pass --tag`,
    );
  }
  const tag = release.tag_name;
  const tagPrefix = /^[^0-9]*/.exec(tag)?.[0] ?? "";
  const version = tag.slice(tagPrefix.length);
  const base: PlanBase = { project: repo, repo: slug, tag, version, expect_latest: false };

  say(`repository files at ${tag}`);
  const problems: string[] = [];
  const tree = TreeBody.safeParse(
    await githubGet(`${slug} tree at ${tag}`, () =>
      gh.rest.git.getTree({ owner, repo, tree_sha: tag, recursive: "1", ...signal }),
    ),
  );
  const paths = tree.success ? tree.data.tree.filter((e) => e.type === "blob").map((e) => e.path) : [];
  if (!tree.success) problems.push(`the git tree at ${tag} could not be read; no manifests were looked at`);
  const read = async (path: string) =>
    readRepoFile(gh, { owner, repo, path, ref: tag, signal: ctx.signal, maxBytes: MAX_FILE_BYTES });
  const files = new Map<string, string>();
  for (const path of pickRepoFiles(paths, undefined, registry)) {
    const text = await read(path);
    if (text !== null) files.set(path, text);
  }
  let packages = readRepoFiles(files, registry);
  if (packages.more_manifests.length) {
    for (const path of packages.more_manifests.filter((p) => paths.includes(p))) {
      const text = await read(path);
      if (text !== null) files.set(path, text);
    }
    packages = readRepoFiles(files, registry);
  }
  problems.push(...packages.problems);
  const targets = files.get("release/targets.json");
  const targetsManifest = targets !== undefined && readTargetsJson(targets).problems.length === 0;

  const discovery = async (id: string): Promise<ChannelDiscovery | null> =>
    (await registry.get(id)?.discover?.()) ?? null;
  const candidates: Candidate[] = [...packages.candidates];
  const unknown: string[] = [];
  const names = [
    ...new Set([repo, ...registry.channels.flatMap((c) => c.init?.projectNames?.(packages.names[c.id] ?? []) ?? [])]),
  ];
  for (const channel of registry.channels) {
    const d = await discovery(channel.id);
    if (!d?.find) continue;
    say(`${channel.id}: looking`);
    try {
      candidates.push(...(await d.find({ owner, repo, names }, ctx)));
    } catch (err) {
      unknown.push(`${channel.id}: could not look for candidates: ${errorMessage(err)}`);
    }
  }

  const answers = new Map<string, RegistryAnswer>();
  for (const c of candidates) {
    const d = await discovery(c.channel);
    if (!d) continue;
    say(`${c.channel}: ${c.name}`);
    answers.set(candidateKey(c), await d.lookup(c.name, base, ctx));
  }
  const judgement = judgeCandidates(candidates, answers, { version, published_at: release.published_at }, registry);
  for (const k of judgement.kept) if (k.could_not_verify) unknown.push(`${k.channel} ${k.name}: ${k.could_not_verify}`);

  const assets = inferAssets(
    release.assets.map((a) => a.name),
    tag,
    version,
  );
  const targets_manifest = targetsManifest ? "release/targets.json" : null;
  const initRelease = { repo: slug, tag, version, tag_prefix: tagPrefix, assets, targets_manifest };
  const details: Record<string, unknown> = {};
  for (const k of judgement.kept) {
    const d = await discovery(k.channel);
    if (d?.details) details[k.channel] = await d.details(k, initRelease, ctx);
  }

  return {
    result: {
      name: repo,
      repo: slug,
      tag,
      version,
      tag_prefix: tagPrefix,
      assets,
      targets_manifest,
      judgement,
      details,
      settings: o.settings,
    },
    unknown,
    problems,
  };
}
