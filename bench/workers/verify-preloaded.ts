/**
 * The CLI's floor without module loading: a fresh process that evaluates every module a `monitor verify` reaches
 * (the command's action, the five probes, the npm config loader, the Sigstore libraries) before its clock starts,
 * then runs the verify command's own action once, stdout muted, and prints `{"verify_ms": …}`: config read to
 * report written, on code that has never run. Node's bootstrap plus this is what a V8 start-up snapshot of the
 * evaluated bundle could give at best (docs/benchmarks.md §1). Usage: node bench/workers/verify-preloaded.ts
 * <config> <tag>
 */
import { runVerify, type VerifyFlags } from "../../src/cli/commands/verify-action.ts";
import { loadSigstore } from "../../src/provenance/verify.ts";

const [config = "", tag = ""] = process.argv.slice(2);
await Promise.all([
  import("../../src/channels/github/probe.ts"),
  import("../../src/channels/crates/probe.ts"),
  import("../../src/channels/npm/probe.ts"),
  import("../../src/channels/pypi/probe.ts"),
  import("../../src/channels/homebrew/probe.ts"),
  import("../../src/config/npmrc.ts"),
  import("@sigstore/tuf"),
  import("snappyjs"),
  loadSigstore(),
]);
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true;
// The flags commander would hand the action for `-c <config> verify <tag> --json`.
const flags: VerifyFlags = { json: true, timeout: "45s", pollInterval: "10s" };
const t0 = performance.now();
await runVerify(tag, flags, { ...flags, config });
const verifyMs = performance.now() - t0;
if (process.exitCode !== undefined && process.exitCode !== 0) throw new Error(`verify: exit code ${process.exitCode}`);
write(`${JSON.stringify({ verify_ms: verifyMs })}\n`);
