import { Document, isMap, isScalar, visit, type Node, type YAMLMap } from "yaml";
import { ConfigError } from "../errors.ts";
import { wheelPlatformsOf } from "../channels/pypi/plan.ts";
import { escapeVersion, type AssetInference } from "./assets.ts";
import type { Judgement, KeptChannel, RegistryChannel } from "./judge.ts";

/**
 * Writes a discovery result as a complete, commented YAML config with one project, in the shape of the current
 * config schema (src/config/schema.ts). What that schema cannot express yet (non-canonical platform names, `.sha256`
 * sidecars) is written as a comment saying so, never as a key the loader would refuse.
 */

export interface DiscoveredHomebrew {
  tap: string;
  formula: string;
  kind: "formula" | "cask";
  platforms: string[];
  platform_names: Record<string, string>;
  /** One artifact url of the formula (any platform), as `#{version}`-resolved text. */
  sample_url: string | null;
  sample_platform: string | null;
  /** The tap could not be read: platforms and url are the release assets', for verify to check. */
  guessed?: true;
}

export interface DiscoveryResult {
  name: string;
  repo: string;
  tag: string;
  version: string;
  tag_prefix: string;
  assets: AssetInference;
  targets_manifest: string | null;
  judgement: Judgement;
  homebrew: DiscoveredHomebrew | null;
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

function versioned(name: string, r: DiscoveryResult): string {
  return escapeVersion(name, r.tag, r.version);
}

/** Asset templates the current schema renders: `{platform}` only where it is the canonical id for one set. */
function githubAssets(a: AssetInference): { assets: string[]; platforms: string[] | null } {
  const withPlatform = a.templates.filter((t) => t.platforms.length);
  const sets = new Set(withPlatform.map((t) => t.platforms.join(",")));
  // One platform set: `{platform}` over the ids, spelled by the project's `platform_names` where they differ.
  if (sets.size <= 1) {
    return {
      assets: a.templates.map((t) => t.template.replace("{target}", "{platform}")),
      platforms: withPlatform.length ? withPlatform[0]!.platforms : null,
    };
  }
  const assets = a.templates.flatMap((t) =>
    t.platforms.length
      ? t.platforms.map((p) => t.template.replace(/\{platform\}|\{target\}/, a.platform_names[p] ?? p))
      : [t.template],
  );
  return { assets, platforms: null };
}

function homebrewUrl(h: DiscoveredHomebrew, r: DiscoveryResult): string | null {
  if (!h.sample_url || !h.sample_platform) return null;
  // The formula must spell platforms as the assets do (the project has one `platform_names`).
  const names = r.assets.platform_names;
  if (Object.entries(h.platform_names).some(([id, n]) => names[id] !== n)) return null;
  const spelled = names[h.sample_platform] ?? h.sample_platform;
  const i = h.sample_url.lastIndexOf(spelled);
  if (i < 0) return null;
  const url = `${h.sample_url.slice(0, i)}{platform}${h.sample_url.slice(i + spelled.length)}`;
  return versioned(url.replace(`https://github.com/${r.repo}/`, "https://github.com/{repo}/"), r);
}

/** PyPI's own account of its wheels; when it could not tell, the wheels attached to the GitHub release. */
function pypiBlock(kept: KeptChannel, r: DiscoveryResult, note: (ch: string, text: string) => void): object {
  if (kept.block) return kept.block;
  const platforms = wheelPlatformsOf(r.assets.python_files);
  note(
    "pypi",
    platforms.length
      ? "wheel platforms are those of the wheels on the GitHub release (PyPI could not tell)"
      : "PyPI could not tell which wheels it has: list their platforms, or write wheel: null",
  );
  return { platforms };
}

/** `an sdist and 3 wheels`. */
function pythonFiles(names: readonly string[]): string {
  const wheels = names.filter((n) => n.endsWith(".whl")).length;
  const sdists = names.length - wheels;
  const count = (n: number, what: string) => (n === 0 ? null : n === 1 ? `one ${what}` : `${n} ${what}s`);
  return [count(sdists, "sdist"), count(wheels, "wheel")].filter((x) => x !== null).join(" and ");
}

function keptOf(j: Judgement, channel: RegistryChannel): KeptChannel | undefined {
  return j.kept.find((k) => k.channel === channel);
}

function comment(node: Node | null | undefined, text: string): void {
  if (node) node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${text}` : text;
}

export function writeConfig(r: DiscoveryResult): string {
  const secretIssues = checkSettingsSecrets(r.settings ?? {});
  if (secretIssues.length) throw new ConfigError(secretIssues, "--settings");

  const channels: Record<string, unknown> = {};
  const notes: Partial<Record<string, string[]>> = {};
  const note = (ch: string, text: string) => (notes[ch] ??= []).push(text);

  if (r.assets.templates.length === 0) {
    // A release without assets of its own: the github channel checks the tag and the release only.
    channels["github"] = { assets: [], checksums: null };
    const py = r.assets.python_files;
    note(
      "github",
      py.length
        ? `release ${r.tag} carries only Python files (${pythonFiles(py)}): the pypi channel compares them with PyPI's copies`
        : `release ${r.tag} has no assets: only the tag and the release are checked`,
    );
    if (r.assets.unmatched.length) note("github", `assets matching no template: ${r.assets.unmatched.join(", ")}`);
  } else {
    const { assets, platforms } = githubAssets(r.assets);
    const checksums = r.assets.checksums && "file" in r.assets.checksums ? versioned(r.assets.checksums.file, r) : null;
    channels["github"] = { ...(platforms ? { platforms } : {}), assets, checksums };
    if (!platforms && Object.keys(r.assets.platform_names).length) {
      note(
        "github",
        `platform names in the assets: ${JSON.stringify(r.assets.platform_names)} (written out per platform)`,
      );
    }
    if (r.assets.checksums && "sidecar" in r.assets.checksums) {
      note("github", "checksums are per-asset .sha256 sidecars, which this schema cannot check yet");
    }
    if (r.assets.unmatched.length) note("github", `assets matching no template: ${r.assets.unmatched.join(", ")}`);
  }
  const crates = keptOf(r.judgement, "crates");
  if (crates) channels["crates"] = { crate: crates.name };
  const npm = keptOf(r.judgement, "npm");
  if (npm) channels["npm"] = { package: npm.name };
  const pypi = keptOf(r.judgement, "pypi");
  // Without a targets manifest, the wheel platforms (or none) come from PyPI's own files for the release.
  if (pypi) channels["pypi"] = { project: pypi.name, ...(r.targets_manifest ? {} : pypiBlock(pypi, r, note)) };
  const brew = keptOf(r.judgement, "homebrew");
  if (brew && r.homebrew) {
    const url = homebrewUrl(r.homebrew, r);
    if (url) {
      channels["homebrew"] = {
        tap: r.homebrew.tap,
        formula: r.homebrew.formula,
        platforms: [...r.homebrew.platforms],
        url,
      };
      if (r.homebrew.guessed) note("homebrew", "platforms and url are the release assets' (the tap could not be read)");
    } else {
      note(
        "homebrew",
        `homebrew ${r.homebrew.kind} ${r.homebrew.tap}:${r.homebrew.formula} found, but its urls name platforms ${JSON.stringify(r.homebrew.platform_names)}, which this schema cannot express yet`,
      );
    }
  }

  if (brew && !r.homebrew) {
    note(
      "homebrew",
      `homebrew ${brew.name} (${brew.source}) could not be read and the release has no platform assets to take its url from: add channels.homebrew by hand${brew.could_not_verify ? ` (${brew.could_not_verify})` : ""}`,
    );
  }

  const usesPlatformNames =
    Object.keys(r.assets.platform_names).length > 0 &&
    Boolean((channels["github"] as { platforms?: unknown } | undefined)?.platforms);
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
  visit(doc, { Seq: (_, seq) => void (seq.flow = seq.items.every(isScalar)) });
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
