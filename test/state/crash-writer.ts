// Child process for test/state/sqlite.test.ts: commits cycles as fast as it can until killed (kill -9).
// Each cycle enqueues one message for two sinks, so a consistent database has outbox rows = 2 x messages.
import { openStateStore } from "../../src/state/sqlite.ts";
import { sampleCommit } from "./samples.ts";

const path = process.argv[2];
if (!path) throw new Error("usage: crash-writer.ts <db>");
const store = openStateStore(path);
let n = 0;
for (;;) {
  await store.commitCycle(sampleCommit(n, ["slack", "ergo"]));
  await store.validatorCache.set(`GET https://x.example/${n % 50}`, {
    etag: `"e${n}"`,
    last_modified: null,
    status: 200,
    headers: {},
    body: Buffer.alloc(2048, n % 256),
    stored_at: Date.now(),
  });
  n++;
  if (n === 20) process.stdout.write("ready\n");
}
