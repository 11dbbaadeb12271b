import type { Octokit } from "@octokit/rest";
import type { Dispatcher } from "undici";
import type { Logger } from "../../log.ts";
import type { SecretRegistry } from "../../secrets.ts";

/** What every sink factory gets besides its own config. */
export interface SinkDeps {
  log: Logger;
  /**
   * Directory of the config file: relative paths in a sink's config (ergo's repo_dir) resolve against it, never
   * against the working directory. Required by sinks that have such paths when one is relative.
   */
  baseDir?: string;
  /** Secrets the sink learns (webhook URLs) are registered here so logs and errors redact them. */
  secrets: SecretRegistry;
  /** HTTP dispatcher for webhook sinks (tests inject one); default: an undici Agent per sink. */
  dispatcher?: Dispatcher;
  /** Environment for spawned tools (ergo); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Octokit over the runtime's HTTP client, the one the probes use, with the configured token (github-issue). */
  octokit?: Octokit;
  /** Each configured project's GitHub repository (owner/name) by project name (github-issue's default repo). */
  projectRepos?: ReadonlyMap<string, string>;
}

/** What a sink's start-up check (SinkDefinition.check) gets besides its own config. */
export interface SinkCheckDeps {
  /** Directory of the config file (relative paths in a sink's config resolve against it). */
  baseDir?: string;
  /** A GitHub token is configured (settings.github.token or $GITHUB_TOKEN); its value never reaches a check. */
  githubToken: boolean;
}
