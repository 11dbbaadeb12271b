import { parse as parseYaml } from "yaml";
import { BYPASS_REASON_PREFIX } from "../alerts/bypass.ts";
import { CHANNELS, DEFAULT_REGISTRY, isChannelId, type ChannelId } from "../channels/registry.ts";
import { UsageError } from "../errors.ts";
import { Git } from "./git.ts";
import type { BypassPlan, ResolvedRelease } from "./types.ts";

/**
 * Intentional channel bypass (release-hygiene.md "for intentional channel bypass, set channel flag(s) and
 * allow_partial_release=true in the same dispatch"). The flags are read from the publish workflow's own
 * `workflow_dispatch.inputs` at `<remote>/<ref>` (what GitHub dispatches): an input the workflow does not define is
 * never sent. Each channel's flag lives in its folder (`src/channels/<id>/publish-flag.ts`, its `publishSkipInput`).
 */

const SKIP_INPUT: Partial<Record<ChannelId, string>> = Object.fromEntries(
  DEFAULT_REGISTRY.channels.flatMap((c) => (c.publishSkipInput ? [[c.id, c.publishSkipInput] as const] : [])),
);
export const ALLOW_PARTIAL_INPUT = "allow_partial_release";

/** Parses `--skip-channel` values (repeatable, comma-separated). */
export function parseSkipChannels(values: readonly string[]): ChannelId[] {
  const out: ChannelId[] = [];
  for (const raw of values.flatMap((v) => v.split(","))) {
    const c = raw.trim();
    if (!isChannelId(c)) throw new UsageError(`--skip-channel: unknown channel "${c}" (one of ${CHANNELS.join(", ")})`);
    if (!SKIP_INPUT[c]) {
      throw new UsageError(
        `--skip-channel: ${c} cannot be bypassed (it has no publish job of its own to skip; bypassable: ${Object.keys(SKIP_INPUT).join(", ")})`,
      );
    }
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** The `workflow_dispatch.inputs` names of a workflow file's YAML; null when it has no workflow_dispatch trigger. */
export function dispatchInputNames(yamlText: string): string[] | null {
  const doc = parseYaml(yamlText) as { on?: unknown; true?: unknown } | null;
  // YAML 1.1 readers turn a bare `on:` key into `true`; accept both.
  const on = doc?.on ?? doc?.true;
  if (on === "workflow_dispatch" || (Array.isArray(on) && on.includes("workflow_dispatch"))) return [];
  if (!on || typeof on !== "object" || !("workflow_dispatch" in on)) return null;
  const wd = (on as { workflow_dispatch?: { inputs?: Record<string, unknown> } | null }).workflow_dispatch;
  return Object.keys(wd?.inputs ?? {});
}

/** Pure: the bypass inputs for these channels, or why the workflow cannot take them. */
export function bypassInputs(
  channels: readonly ChannelId[],
  defined: readonly string[],
  where: string,
): { inputs: Record<string, string> } | { refused: string } {
  const wanted = [...channels.map((c) => SKIP_INPUT[c] ?? `skip_${c}`), ALLOW_PARTIAL_INPUT];
  const missing = wanted.filter((n) => !defined.includes(n));
  if (missing.length > 0) {
    return {
      refused: `${where} defines no ${missing.map((m) => `"${m}"`).join(", ")} workflow_dispatch input (it has: ${defined.join(", ") || "none"}): the workflow does not allow a partial release (plasmite removed these inputs to enforce all-channels-or-nothing), and the driver never sends an input the workflow does not define. Publish every channel, or fix the registry and rerun`,
    };
  }
  return { inputs: Object.fromEntries(wanted.map((n) => [n, "true"])) };
}

/** Reads the publish workflow at `<remote>/<ref>` in the project checkout and plans the bypass, or refuses (exit 2). */
export async function planBypass(
  release: ResolvedRelease,
  channels: readonly ChannelId[],
  untilMs: number,
  signal?: AbortSignal,
): Promise<BypassPlan> {
  const cfg = release.config;
  const rev = `${cfg.remote}/${cfg.workflows.ref}`;
  const file = `.github/workflows/${cfg.workflows.publish}`;
  const text = await new Git(release.repoDir, signal).show(rev, file);
  const where = `${file} at ${rev}`;
  if (text === null) throw new UsageError(`--skip-channel: cannot read ${where} in ${release.repoDir}`);
  let defined: string[] | null;
  try {
    defined = dispatchInputNames(text);
  } catch (err) {
    throw new UsageError(`--skip-channel: ${where} is not valid YAML (${err instanceof Error ? err.message : "?"})`);
  }
  if (defined === null) throw new UsageError(`--skip-channel: ${where} has no workflow_dispatch trigger`);
  const planned = bypassInputs(channels, defined, where);
  if ("refused" in planned) throw new UsageError(`--skip-channel ${channels.join(",")}: refused: ${planned.refused}`);
  return { channels: [...channels], inputs: planned.inputs, silence_ids: [], until: new Date(untilMs).toISOString() };
}

export function bypassReason(agent: string): string {
  return `${BYPASS_REASON_PREFIX}${agent}`;
}
