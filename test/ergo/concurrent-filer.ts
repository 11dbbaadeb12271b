/**
 * One filer process for test/ergo/concurrency.test.ts: `node concurrent-filer.ts <sink|release> <dir> <tag> <n>`.
 * It prints `ready`, waits for its stdin to close (the test's barrier, released for both processes at once), then
 * files one blocker for <tag> in the ergo repository <dir> with the real ergo: `sink` as a daemon's ergo alert sink
 * (an `open` alert), `release` as `monitor release` does (fileReleaseBlocker). Prints `filed <epic> <task>`.
 */
import { createErgoSink, ergoMemoryKeys } from "../../src/alerts/sinks/ergo/ergo-sink.ts";
import { SinkConfig } from "../../src/alerts/sinks/registry.ts";
import { fileReleaseBlocker } from "../../src/ergo/client.ts";
import { silentLogger } from "../../src/log.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { makeAlert, makeIncident, MemorySinkMemory, sinkContext } from "../fakes/alerts.ts";
import { REAL_ERGO } from "../helpers/real-ergo.ts";

const [mode, dir = "", tag = "", n = "0"] = process.argv.slice(2);

async function file(): Promise<{ epic: string; task: string }> {
  if (mode === "release") {
    const r = await fileReleaseBlocker({
      dir,
      binary: REAL_ERGO,
      tag,
      title: `step ${n}: failed`,
      body: "## Goal\n\nx\n",
    });
    return { epic: r.epicId, task: r.taskId };
  }
  const config = SinkConfig.parse({ type: "ergo", repo_dir: dir, binary: REAL_ERGO });
  if (config.type !== "ergo") throw new Error("not an ergo sink config");
  const sink = createErgoSink(config, { log: silentLogger(), secrets: new SecretRegistry() });
  const memory = new MemorySinkMemory();
  const incident = makeIncident({ tag, subject: `subject-${n}` });
  await sink.deliver(makeAlert("open", { incident, summary: `npm lacks ${n}` }), sinkContext(memory));
  return {
    epic: (await memory.get(ergoMemoryKeys.epic(tag))) ?? "",
    task: (await memory.get(ergoMemoryKeys.incident(incident.id))) ?? "",
  };
}

process.stdin.resume();
process.stdin.on("end", () => {
  file().then(
    (r) => process.stdout.write(`filed ${r.epic} ${r.task}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
});
process.stdout.write("ready\n");
