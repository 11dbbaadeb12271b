import type { z } from "zod";
import type { Sink } from "../types.ts";
import type { SinkCheckDeps, SinkDeps } from "./deps.ts";

/**
 * What a sink folder exports: its config schema, its secret fields, its factory and an optional start-up check.
 * `alerts/sinks/registry.ts` lists the definitions; the config's `settings.alerts.sinks[]` union, the secret
 * registration in config/load.ts and the factory lookup are all built from that one list.
 */
export interface SinkDefinition<T extends string = string, S extends SinkSchema<T> = SinkSchema<T>> {
  /** The `type:` of the config entry. */
  readonly type: T;
  /** Strict zod object with `type: z.literal(T)` and `name` (default: the type). */
  readonly schema: S;
  /**
   * Values of the parsed config that are secrets (webhook URLs, HMAC keys, tokens). They are registered with
   * the SecretRegistry when the config is loaded and again when the sink is created, so logs, errors and alert
   * bodies redact them. Empty and missing values are ignored.
   */
  secrets(config: z.infer<S>): readonly (string | null | undefined)[];
  /** Builds the sink. A sink holding resources (HTTP agents) exposes `close()`. */
  create(config: z.infer<S>, deps: SinkDeps): Sink;
  /**
   * Start-up check of what the sink needs outside its own entry (ergo's repo_dir, github-issue's token); each
   * issue starts with `at` (`settings.alerts.sinks[<i>]`). `watch` and `config check` refuse to start on any.
   */
  check?(config: z.infer<S>, deps: SinkCheckDeps, at: string): string[];
}

/** The shape every sink schema has: a strict object discriminated by `type`, with a `name`. */
export type SinkSchema<T extends string> = z.ZodObject<
  { type: z.ZodLiteral<T>; name: z.ZodDefault<z.ZodString> } & z.ZodRawShape,
  z.core.$strict
>;

/** Identity with inference: `export const slackSink = defineSink({ type: "slack", schema, secrets, create })`. */
export function defineSink<T extends string, S extends SinkSchema<T>>(def: SinkDefinition<T, S>): SinkDefinition<T, S> {
  return def;
}
