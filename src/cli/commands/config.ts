import type { Command } from "commander";
import { loadConfigFile } from "../../config/load.ts";
import { checkSinks } from "../../daemon/create.ts";
import { configJsonSchema } from "../../config/schema.ts";
import { escapeControls } from "../../quote.ts";
import { resolveConfigPath, type GlobalOptions } from "../load.ts";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("validate the config file or print its JSON Schema");
  config
    .command("check")
    .description(
      "load and validate the config (YAML or JSON) and the sinks' directories; exit 0 when valid, 2 with every problem otherwise",
    )
    .action((_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const loaded = loadConfigFile(resolveConfigPath(globals.config));
      checkSinks(loaded);
      const c = loaded.config;
      const lines = [`ok: ${escapeControls(loaded.source)}`];
      for (const p of c.projects) {
        const channels = Object.entries(p.channels)
          .filter(([, v]) => v !== undefined)
          .map(([k]) => k);
        lines.push(
          `  ${p.name} (${p.repo}): ${channels.join(", ")}${p.targets_manifest ? `; platforms from ${escapeControls(p.targets_manifest)}` : ""}`,
        );
      }
      const url = (u: string) => escapeControls(loaded.secrets.redactUrl(u));
      const npmRegistry = c.settings.npm.registry?.replace(/\/*$/, "/");
      lines.push(
        `  npm registry: ${npmRegistry ? url(npmRegistry) : "from npm's configuration (.npmrc, npm_config_*)"}`,
      );
      lines.push(`  github api: ${url(c.settings.github.api_url)} (token: ${loaded.githubToken ? "set" : "not set"})`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  config
    .command("schema")
    .description("print the JSON Schema of the config file (generated from the zod schema)")
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
