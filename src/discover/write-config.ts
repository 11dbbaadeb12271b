import { Document, isMap, isScalar, visit, type Node, type YAMLMap } from "yaml";
import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { ConfigError } from "../errors.ts";
import type { AssetInference } from "./assets.ts";
import type { Judgement } from "./judge.ts";

/**
 * Writes a discovery result as a complete, commented YAML config with one project, in the shape of the current
 * config schema (src/config/schema.ts); each channel writes its own block (`init.block`, src/channels/<id>/init.ts),
 * in registry order. What that schema cannot express yet (platform names that differ between templates) is written
 * as a comment saying so, never as a key the loader would refuse.
 */

export interface DiscoveryResult {
  name: string;
  repo: string;
  tag: string;
  version: string;
  tag_prefix: string;
  assets: AssetInference;
  targets_manifest: string | null;
  judgement: Judgement;
  /** Per channel id, what its discovery read about the kept candidate (`ChannelDiscovery.details`). */
  details: Readonly<Record<string, unknown>>;
  /** The `settings:` block of `--settings F` as written (before `${VAR}` interpolation), or null. */
  settings: Record<string, unknown> | null;
}

const SECRET_KEY = /token|webhook|password|secret/i;
const ENV_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/;
const URL_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+@/i;

/** Every secret-looking value in the settings must be a `${VAR}` reference; its value is never written. */
export function checkSettingsSecrets(value: unknown, path = "settings"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => checkSettingsSecrets(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) =>
      typeof v === "string" && (SECRET_KEY.test(k) || URL_CREDENTIALS.test(v)) && !ENV_REF.test(v)
        ? [`${path}.${k}: a secret must be a \${VAR} reference in a settings file that init copies`]
        : checkSettingsSecrets(v, `${path}.${k}`),
    );
  }
  return [];
}

function comment(node: Node | null | undefined, text: string): void {
  if (node) node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${text}` : text;
}

export function writeConfig(r: DiscoveryResult, registry: ChannelRegistry = DEFAULT_REGISTRY): string {
  const secretIssues = checkSettingsSecrets(r.settings ?? {});
  if (secretIssues.length) throw new ConfigError(secretIssues, "--settings");

  const channels: Record<string, unknown> = {};
  const notes: Partial<Record<string, string[]>> = {};
  const release = {
    repo: r.repo,
    tag: r.tag,
    version: r.version,
    tag_prefix: r.tag_prefix,
    assets: r.assets,
    targets_manifest: r.targets_manifest,
  };
  let platformNamesUsed = false;
  for (const c of registry.channels) {
    if (!c.init) continue;
    const kept = r.judgement.kept.find((k) => k.channel === c.id);
    const written = c.init.block({ release, kept, details: r.details[c.id] });
    if (written.block) channels[c.id] = written.block;
    if (written.notes.length) notes[c.id] = [...written.notes];
    platformNamesUsed ||= written.block !== null && written.usesPlatformNames === true;
  }

  const usesPlatformNames = Object.keys(r.assets.platform_names).length > 0 && platformNamesUsed;
  const grace = Object.fromEntries(Object.entries(r.judgement.grace).map(([ch, g]) => [ch, g.value]));
  const project: Record<string, unknown> = {
    name: r.name,
    repo: r.repo,
    tag_prefix: r.tag_prefix,
    ...(usesPlatformNames ? { platform_names: r.assets.platform_names } : {}),
    ...(r.targets_manifest ? { targets_manifest: r.targets_manifest } : {}),
    ...(Object.keys(grace).length ? { grace } : {}),
    channels,
  };
  const doc = new Document({
    version: 1,
    settings: r.settings ?? { github: { token: "${GITHUB_TOKEN:-}" } },
    projects: [project],
  });
  doc.commentBefore =
    ` release-monitor config for ${r.repo}, written by discovery from release ${r.tag}.\n` +
    `   monitor verify ${r.tag} --config <this file>`;
  annotate(doc, r, notes);
  // Lists of names read best on one line, as in examples/*.yaml.
  visit(doc, {
    Seq: (_, seq) => void (seq.flow = seq.items.every(isScalar)),
    // `checksums: { sidecar: .sha256 }` on one line too.
    Pair: (_, pair) => {
      if (isScalar(pair.key) && pair.key.value === "checksums" && isMap(pair.value)) pair.value.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

function annotate(doc: Document, r: DiscoveryResult, notes: Partial<Record<string, string[]>>): void {
  const channels = doc.getIn(["projects", 0, "channels"], true) as YAMLMap | undefined;
  if (!isMap(channels)) return;
  const derived = Object.entries(r.judgement.grace).filter(([, g]) => g.derived);
  const project = doc.getIn(["projects", 0], true);
  const graceNode = isMap(project) ? project.items.find((p) => isScalar(p.key) && p.key.value === "grace")?.key : null;
  if (graceNode) {
    comment(
      graceNode as Node,
      derived.length
        ? ` twice the lag the release itself showed on: ${derived.map(([ch]) => ch).join(", ")}; others are defaults`
        : " defaults: no channel had the version yet to measure its lag",
    );
  }
  for (const pair of channels.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    const kept = r.judgement.kept.find((k) => k.channel === key);
    if (kept?.could_not_verify) comment(pair.key as Node, ` could not verify: ${kept.could_not_verify}`);
    if (kept) comment(pair.key as Node, ` from ${kept.source}`);
    for (const n of notes[key] ?? []) comment(pair.key as Node, ` ${n}`);
  }
  const orphan = Object.entries(notes)
    .filter(([ch]) => !channels.has(ch))
    .flatMap(([, ns]) => ns ?? []);
  const rejected = r.judgement.rejected.map((c) => `rejected ${c.channel} ${c.name} (${c.source}): ${c.reason}`);
  const trailer = [...orphan, ...rejected];
  if (trailer.length) channels.comment = trailer.map((t) => ` ${t}`).join("\n");
}
