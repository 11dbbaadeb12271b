import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { z } from "zod";
import cron from "node-cron";
import { sinkSecrets } from "../alerts/sinks/registry.ts";
import { AppError, ConfigError, errorMessage } from "../errors.ts";
import { escapeControls, quote } from "../quote.ts";
import { SECRET_NAME, SecretRegistry } from "../secrets.ts";
import type { NpmrcView } from "./npmrc.ts";
import { channelSettingsSecrets, DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { configSchemas, MonitorConfig, ProjectConfig } from "./schema.ts";
import { redactSyntaxError } from "./syntax-error.ts";
import { parseConfigYaml } from "./yaml.ts";
import { tokenRuleIssue } from "./listen.ts";
import { parseDuration } from "./duration.ts";

export interface LoadedConfig {
  config: MonitorConfig;
  /** Absolute path of the file, or "<inline>". */
  source: string;
  /** Directory relative paths in the config (state_dir, repo_dir) resolve against. */
  baseDir: string;
  /** npm's own configuration, read once on first use (null: not consulted, as under --sim). */
  npmrc: (() => Promise<NpmrcView>) | null;
  /** GitHub token from config or $GITHUB_TOKEN, or null. */
  githubToken: string | null;
  secrets: SecretRegistry;
  /**
   * Under --sim: the sim's Sigstore trust (`<url>/trusted_root.json`, `<url>/keys.json`) and the sim registry
   * playing npm's own default registry. Unset otherwise.
   */
  sim?: { trustUrl: string; npmDefaultRegistry: string };
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  secrets?: SecretRegistry;
  /** The channels the config may name (default: the built-ins). */
  registry?: ChannelRegistry;
  /** `monitor init --settings`: a file with no projects is accepted (every other command needs one). */
  settingsOnly?: boolean;
}

export function loadConfigFile(path: string, options: LoadOptions = {}): LoadedConfig {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (err) {
    throw new AppError(
      "E_CONFIG_READ",
      `cannot read config ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      {
        cause: err,
      },
    );
  }
  return loadConfigText(text, abs, dirname(abs), options);
}

export function loadConfigText(text: string, source: string, baseDir: string, options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const secrets = options.secrets ?? new SecretRegistry();
  let raw: unknown;
  try {
    raw = source.endsWith(".json") ? JSON.parse(text) : parseConfigYaml(text);
  } catch (err) {
    throw new ConfigError([`syntax: ${redactSyntaxError(errorMessage(err), text, env, secrets)}`], source);
  }
  const envIssues: string[] = [];
  const interpolated = interpolate(raw, [], env, secrets, envIssues);
  if (envIssues.length) throw new ConfigError(envIssues, source);
  registerUrlCredentials(interpolated, secrets);

  const registry = options.registry ?? DEFAULT_REGISTRY;
  const schemas = registry === DEFAULT_REGISTRY ? null : configSchemas(registry.channels);
  const full = schemas ? schemas.MonitorConfig : MonitorConfig;
  const schema = options.settingsOnly
    ? full.extend({ projects: z.array(schemas ? schemas.ProjectConfig : ProjectConfig).default([]) })
    : full;
  const parsed = schema.safeParse(interpolated);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues), source);
  // tsc needs the cast (a registry-built schema infers a structurally different MonitorConfig); the linter's program does not see that.
  const config = parsed.data as MonitorConfig;
  const ruleIssues = checkRules(config, registry);
  if (ruleIssues.length) throw new ConfigError(ruleIssues, source);

  const githubToken = config.settings.github.token ?? env["GITHUB_TOKEN"] ?? null;
  secrets.add(githubToken);
  for (const s of channelSettingsSecrets(registry, config.settings)) secrets.add(s);
  secrets.add(config.settings.server.token);
  for (const sink of config.settings.alerts.sinks) for (const s of sinkSecrets(sink)) secrets.add(s);

  return {
    config,
    source,
    baseDir,
    // npm's config library (~0.6 MB with glob and minimatch) loads only when an npm channel asks for it.
    npmrc: once(async () => (await import("./npmrc.ts")).loadNpmrc({ env, cwd: process.cwd() })),
    githubToken: githubToken && githubToken.length > 0 ? githubToken : null,
    secrets,
  };
}

/** npm reads its configuration once per process; so does the monitor (the daemon included). */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | null = null;
  return () => (loaded ??= load());
}

/**
 * Credentials inside any configured URL (`https://user:password@host/`) are secrets. settings.state.url is left to
 * registerStateUrl (before validation, so that even a rejected value is known): a database user name ("postgres") is not a secret, and redacting it would mangle every
 * `postgres://` in the logs.
 */
function registerUrlCredentials(value: unknown, secrets: SecretRegistry, path: readonly string[] = []): void {
  if (path.join(".") === "settings.state.url") {
    if (typeof value === "string") registerStateUrl(value, secrets);
    return;
  }
  if (typeof value === "string") secrets.addUrlCredentials(value);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) registerUrlCredentials(v, secrets, [...path, k]);
  }
}

/** The state database URL is a secret as a whole, and so is its password (raw and decoded). */
function registerStateUrl(url: string, secrets: SecretRegistry): void {
  secrets.add(url);
  let password: string;
  try {
    const u = new URL(url);
    password = u.password;
    // Text is stripped of userinfo before redaction: the URL without it is registered as well.
    u.username = "";
    u.password = "";
    secrets.add(u.toString());
  } catch {
    return;
  }
  secrets.add(password);
  try {
    secrets.add(decodeURIComponent(password));
  } catch {
    // a malformed escape: the raw form is registered
  }
}

/** `${VAR}`, `${VAR:-default}`; `$${` escapes a literal `${`. Applied to string values after parsing. */
function interpolate(
  value: unknown,
  path: (string | number)[],
  env: NodeJS.ProcessEnv,
  secrets: SecretRegistry,
  issues: string[],
): unknown {
  if (typeof value === "string") {
    return value.replace(
      /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (match, name: string | undefined, fallback: string | undefined) => {
        if (match === "$${") return "${";
        const v = env[name ?? ""];
        if (v === undefined || v === "") {
          if (fallback !== undefined) return fallback;
          issues.push(`${formatPath(path)}: environment variable ${name} is not set`);
          return "";
        }
        if (SECRET_NAME.test(name ?? "") || SECRET_NAME.test(String(path.at(-1) ?? ""))) secrets.add(v);
        return v;
      },
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, secrets, issues));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, [...path, k], env, secrets, issues);
    return out;
  }
  return value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(root)";
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => {
    if (i.code === "invalid_union") {
      // The one branch whose type matched (`{ sidecar: ... }` for an object) says what is wrong inside it.
      const typed = i.errors.filter((branch) => !branch.some((b) => b.code === "invalid_type" && b.path.length === 0));
      if (typed.length === 1 && typed[0])
        return formatIssues(typed[0].map((b) => ({ ...b, path: [...i.path, ...b.path] })));
    }
    if (i.code === "unrecognized_keys") {
      return i.keys.map((k) => `${formatPath([...i.path, k])}: unknown key`).join("\n  - ");
    }
    if (i.code === "invalid_union" && "note" in i && i.note === "No matching discriminator") {
      return `${formatPath(i.path)}: ${i.message}`;
    }
    return `${formatPath(i.path)}: ${i.message}`;
  });
}

const KNOWN_PLACEHOLDERS = new Set([
  "version",
  "tag",
  "platform",
  "target",
  "project",
  "project_underscore",
  "wheel_platform",
  "repo",
  "name",
]);

function checkRules(config: MonitorConfig, registry: ChannelRegistry): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  const checkCron = (expr: string | undefined, path: string) => {
    if (expr !== undefined && !cron.validate(expr)) issues.push(`${path}: invalid cron expression ${quote(expr)}`);
  };
  checkCron(config.settings.watch.schedule, "settings.watch.schedule");
  config.projects.forEach((p, i) => {
    const at = `projects[${i}]`;
    if (seen.has(p.name)) issues.push(`${at}.name: duplicate project name ${quote(p.name)}`);
    seen.add(p.name);
    checkCron(p.watch?.schedule, `${at}.watch.schedule`);
    const blocks = p.channels as Readonly<Record<string, unknown>>;
    const present = registry.channels.filter((c) => blocks[c.id] !== undefined);
    for (const c of present) {
      for (const [sub, t] of c.templates?.(blocks[c.id]) ?? []) {
        if (!t) continue;
        for (const m of t.matchAll(/\{([^}]*)\}/g)) {
          if (!KNOWN_PLACEHOLDERS.has(m[1] ?? ""))
            issues.push(`${at}.channels.${c.id}.${sub}: unknown placeholder {${escapeControls(m[1] ?? "")}}`);
        }
      }
    }
    for (const c of present) {
      for (const issue of c.rules?.(blocks[c.id], p) ?? []) issues.push(`${at}.channels.${c.id}.${issue}`);
    }
  });
  const state = config.settings.state;
  if ((parseDuration(state.lease_renew) ?? 0) <= 0) issues.push("settings.state.lease_renew: must be more than 0");
  if ((parseDuration(state.lease_renew) ?? 0) >= (parseDuration(state.lease_ttl) ?? 0)) {
    issues.push("settings.state.lease_ttl: must be longer than settings.state.lease_renew");
  }
  const server = config.settings.server;
  if (!/^[0-9]+$/.test(server.listen.split(":").at(-1) ?? "")) {
    issues.push(`settings.server.listen: must be host:port, got ${quote(server.listen)}`);
  } else {
    const issue = tokenRuleIssue(server.listen, server.token, "settings.server.listen");
    if (issue) issues.push(issue);
  }
  return issues;
}
