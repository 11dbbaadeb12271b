/**
 * The release-publish workflow_dispatch input that skips this channel's publish job in an intentional bypass
 * (`monitor release --skip-channel pypi --allow-partial`; plasmite's historic input, plasmite-release.md §3).
 */
export const PUBLISH_SKIP_INPUT = "skip_pypi";
