/** What `monitor init` does (loaded by commands/init.ts only when the command runs). */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadConfigFile, loadConfigText, type LoadedConfig } from "../../config/load.ts";
import { discoverProject } from "../../discover/run.ts";
import { writeConfig } from "../../discover/write-config.ts";
import { UsageError } from "../../errors.ts";
import { quote } from "../../quote.ts";
import { REPORTERS } from "../../report/registry.ts";
import { createRuntime } from "../../runtime/runtime.ts";
import { verifyRelease } from "../../verify/run.ts";
import { ExitCode } from "../../exit-codes.ts";
import type { GlobalOptions } from "../load.ts";
import { useColor } from "../output.ts";

export interface InitFlags extends GlobalOptions {
  tag?: string;
  settings?: string;
  out?: string;
  force?: boolean;
}

const VERIFY_TIMEOUT_MS = 45_000;
const DISCOVERY_TIMEOUT_MS = 5 * 60_000;

/** The `settings:` block of --settings as written (secrets stay `${VAR}` references), or null. */
function rawSettings(path: string): Record<string, unknown> | null {
  const raw = parseYaml(readFileSync(path, "utf8")) as { settings?: unknown } | null;
  const s = raw?.settings;
  return s && typeof s === "object" && !Array.isArray(s) ? (s as Record<string, unknown>) : null;
}

export async function runInit(repo: string, flags: InitFlags, globals: InitFlags): Promise<void> {
  if (flags.force && !flags.out) throw new UsageError("--force needs --out");
  if (flags.out && existsSync(flags.out) && !flags.force) {
    throw new UsageError(`--out: ${quote(flags.out)} exists; pass --force to overwrite it`);
  }
  const loaded: LoadedConfig = flags.settings
    ? loadConfigFile(flags.settings, { settingsOnly: true })
    : loadConfigText("version: 1\n", "<defaults>", process.cwd(), { settingsOnly: true });
  const settings = flags.settings ? rawSettings(flags.settings) : null;

  // --sim <world>: the simulated registries stand in for every endpoint, in-process.
  let closeSim = async (): Promise<void> => {};
  let overlay: ((l: LoadedConfig) => void) | null = null;
  if (globals.sim) {
    const { startSimWorld, applySimOverlay } = await import("../sim-session.ts");
    const sim = await startSimWorld(globals.sim);
    applySimOverlay(loaded, sim);
    overlay = (l) => applySimOverlay(l, sim);
    closeSim = () => sim.close();
  }
  try {
    const rt = createRuntime(loaded, globals.logLevel ? { logLevel: globals.logLevel } : {});
    const tty = process.stderr.isTTY;
    const progress = tty ? (line: string) => process.stderr.write(`\r\x1b[2Kinit: ${line}`) : undefined;
    let discovered;
    try {
      discovered = await discoverProject(
        repo,
        {
          endpoints: rt.endpoints,
          http: rt.http,
          octokit: rt.github(rt.http),
          log: rt.log,
          signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
          deep: false,
        },
        { ...(flags.tag ? { tag: flags.tag } : {}), settings, ...(progress ? { progress } : {}) },
      );
    } finally {
      if (tty) process.stderr.write("\r\x1b[2K");
      await rt.close();
    }
    const text = writeConfig(discovered.result);
    const yaml = text.endsWith("\n") ? text : `${text}\n`;
    if (flags.out) writeFileSync(flags.out, yaml);
    else process.stdout.write(yaml);
    const notes = [
      ...discovered.problems.map((p) => `note: ${p}`),
      ...discovered.unknown.map((u) => `could not verify: ${u}`),
    ];
    for (const r of discovered.result.judgement.rejected)
      notes.push(`rejected ${r.channel} ${r.name} (${r.source}): ${r.reason}`);
    if (notes.length) process.stderr.write(`${notes.join("\n")}\n`);

    // The same verification as `monitor verify`, on the config just written.
    const written = loadConfigText(
      yaml,
      flags.out ? resolve(flags.out) : "<init>",
      flags.out ? dirname(resolve(flags.out)) : process.cwd(),
    );
    overlay?.(written);
    const project = written.config.projects[0]!;
    const vrt = createRuntime(written, globals.logLevel ? { logLevel: globals.logLevel } : {});
    try {
      const report = await verifyRelease(vrt, written, project, discovered.result.tag, {
        deep: false,
        timeoutMs: VERIFY_TIMEOUT_MS,
        expectLatest: "auto",
      });
      const out = flags.out ? process.stdout : process.stderr;
      out.write(`${REPORTERS.text.render([report], { color: useColor(out) })}\n`);
    } finally {
      await vrt.close();
    }
    if (flags.out) process.stderr.write(`wrote ${flags.out}\n`);
    process.exitCode = discovered.unknown.length ? ExitCode.unknown : ExitCode.ok;
  } finally {
    await closeSim();
  }
}
