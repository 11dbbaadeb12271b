import type { Command } from "commander";
import { registerConfig } from "./config.ts";
import { registerVerify } from "./verify.ts";

/** One line per command. */
export const COMMANDS: readonly ((program: Command) => void)[] = [registerVerify, registerConfig];
