/**
 * The built-in channel ids in display order, without their modules: for what only needs the names (`--channel`
 * help on `monitor verify --help`), so that loading them does not evaluate every channel's config schemas (zod),
 * provenance and semver code (start-up, docs/benchmarks.md). registry.ts checks at load that this list and
 * BUILTIN_CHANNELS agree.
 */
export const BUILTIN_CHANNEL_IDS = ["github", "crates", "npm", "pypi", "homebrew"] as const;
