import type { Command } from "commander";
import { CHANNELS, isChannelId } from "../../channels.ts";
import { formatDuration, parseDurationFlag } from "../../config/duration.ts";
import { loadConfigFile } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import type { Silence } from "../../state/types.ts";
import { resolveConfigPath, type GlobalOptions } from "../load.ts";
import { escapeControls, quote } from "../../quote.ts";

interface SilenceFlags extends GlobalOptions {
  channel?: string;
  for?: string;
  reason?: string;
  list?: boolean;
  remove?: string;
  json?: boolean;
}

/**
 * `monitor silence`: writes to the daemon's state db (WAL + busy timeout, so it works while the daemon runs); the
 * daemon reads silences every cycle. Silences mute messages only: incidents keep opening and resolving.
 */
export function registerSilence(program: Command): void {
  program
    .command("silence")
    .description("mute alerts for a project (or one channel of it) for a while; --list, --remove <id>")
    .argument("[project]", 'project name, or "*" for every project and registry-degraded notices')
    .option("--channel <name>", `only this channel (${CHANNELS.join(", ")})`)
    .option("--for <duration>", "how long, e.g. 30m, 2h, 1d")
    .option("--reason <text>", "why (shown by --list)")
    .option("--list", "list silences, expired ones marked as such")
    .option("--remove <id>", "delete the silence with this id")
    .option("--json", "print JSON")
    .action(async (projectArg: string | undefined, flags: SilenceFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<SilenceFlags>();
      const modes = [flags.list, flags.remove !== undefined, projectArg !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new UsageError("give a project to silence, or --list, or --remove <id> (exactly one)");
      const loaded = loadConfigFile(resolveConfigPath(globals.config));
      // node:sqlite and the state store load only for this command, not on every CLI start.
      const { openStateStore, stateDbPath } = await import("../../state/sqlite.ts");
      const store = openStateStore(stateDbPath(loaded.baseDir, loaded.config.settings.state_dir));
      const now = new Date();
      try {
        if (flags.list) {
          const all = await store.silences();
          process.stdout.write(
            flags.json
              ? `${JSON.stringify(
                  all.map((s) => view(s, now)),
                  null,
                  2,
                )}\n`
              : renderList(all, now),
          );
          return;
        }
        if (flags.remove !== undefined) {
          const id = Number(flags.remove);
          if (!Number.isInteger(id) || id <= 0)
            throw new UsageError(`--remove: ${quote(String(flags.remove))} is not a silence id`);
          if (!(await store.removeSilence(id)))
            throw new UsageError(`--remove: no silence with id ${id} (see monitor silence --list)`);
          process.stdout.write(flags.json ? `${JSON.stringify({ removed: id })}\n` : `removed silence ${id}\n`);
          return;
        }
        const project = projectArg ?? "";
        const names = loaded.config.projects.map((p) => p.name);
        if (project !== "*" && !names.includes(project)) {
          throw new UsageError(
            `project: no project named "${project}" in ${loaded.source} (have: ${names.join(", ")}, or "*")`,
          );
        }
        if (flags.channel !== undefined && !isChannelId(flags.channel)) {
          throw new UsageError(
            `--channel: unknown channel ${quote(String(flags.channel))} (one of ${CHANNELS.join(", ")})`,
          );
        }
        if (flags.for === undefined) throw new UsageError("--for <duration> is required (e.g. --for 2h)");
        const ms = parseDurationFlag("--for", flags.for, "3650d");
        const s = await store.addSilence({
          project,
          channel: flags.channel !== undefined && isChannelId(flags.channel) ? flags.channel : null,
          until: new Date(now.getTime() + ms).toISOString(),
          reason: flags.reason ?? null,
          created_at: now.toISOString(),
        });
        process.stdout.write(
          flags.json
            ? `${JSON.stringify(view(s, now))}\n`
            : `silenced ${describe(s)} for ${formatDuration(ms)}, until ${s.until} (id ${s.id})\n`,
        );
      } finally {
        await store.close();
      }
    });
}

function view(s: Silence, now: Date): Silence & { active: boolean } {
  return { ...s, active: Date.parse(s.until) > now.getTime() };
}

function describe(s: Silence): string {
  const who = s.project === "*" ? "every project" : s.project;
  return s.channel ? `${who} on ${s.channel}` : who;
}

function renderList(all: readonly Silence[], now: Date): string {
  if (all.length === 0) return "no silences\n";
  const rows = [
    ["ID", "PROJECT", "CHANNEL", "UNTIL", "STATE", "REASON"],
    ...all.map((s) => {
      const left = Date.parse(s.until) - now.getTime();
      return [
        String(s.id),
        s.project,
        s.channel ?? "*",
        s.until,
        left > 0 ? `active (${formatDuration(left)} left)` : "expired",
        escapeControls(s.reason ?? ""),
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}
