import type { Command } from "commander";

/**
 * A command and how to load it. Commands load lazily: `monitor verify` never loads the daemon, the state db, the
 * status server or the simulator (start-up time, docs/benchmarks.md). `name` must be the command's commander name.
 */
export interface CommandEntry {
  name: string;
  load: () => Promise<(program: Command) => void>;
}

/** One line per command. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: "verify", load: async () => (await import("./verify.ts")).registerVerify },
  { name: "init", load: async () => (await import("./init.ts")).registerInit },
  { name: "config", load: async () => (await import("./config.ts")).registerConfig },
  { name: "watch", load: async () => (await import("./watch.ts")).registerWatch },
  { name: "silence", load: async () => (await import("./silence.ts")).registerSilence },
  { name: "demo", load: async () => (await import("./demo.ts")).registerDemo },
  { name: "release", load: async () => (await import("./release.ts")).registerRelease },
  { name: "state", load: async () => (await import("./state.ts")).registerState },
];
