import type { Command } from "commander";
import { registerConfig } from "./config.ts";
import { registerRelease } from "./release.ts";
import { registerVerify } from "./verify.ts";
import { registerWatch } from "./watch.ts";
import { registerSilence } from "./silence.ts";
import { registerDemo } from "./demo.ts";

/** One line per command. */
export const COMMANDS: readonly ((program: Command) => void)[] = [
  registerVerify,
  registerConfig,
  registerWatch,
  registerSilence,
  registerDemo,
  registerRelease,
];
