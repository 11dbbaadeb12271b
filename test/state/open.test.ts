import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadConfigText } from "../../src/config/load.ts";
import { AppError } from "../../src/errors.ts";
import { openConfiguredState } from "../../src/state/open.ts";
import { stateDbPath } from "../../src/state/sqlite.ts";
import { REPO_ROOT, runCli, tempDir, writeConfig } from "../helpers/cli.ts";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";
import { sampleCommit } from "./samples.ts";

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(() => cluster.stop());

const config = (state = "") => `
settings:
  state_dir: state
${state}
projects:
  - name: plasmite
    repo: sandover/plasmite
    channels:
      crates: { crate: plasmite }
`;

test("without settings.state.url: SQLite in state_dir, as before, and the pg driver is not loaded", async () => {
  const dir = tempDir();
  const loaded = loadConfigText(config(), join(dir, "monitor.yaml"), dir);
  const state = await openConfiguredState(loaded, { role: "daemon" });
  assert.equal(state.kind, "sqlite");
  assert.equal(state.path, stateDbPath(dir, "state"));
  assert.equal(state.store.path, stateDbPath(dir, "state"));
  assert.equal(state.cluster, null);
  await state.store.commitCycle(sampleCommit(0, ["slack"]));
  assert.equal(await state.store.messageCount(), 1);
  await state.store.close();

  const modules = join(dir, "modules.txt");
  const script = `import { loadConfigText } from "./src/config/load.ts";
import { openConfiguredState } from "./src/state/open.ts";
const loaded = loadConfigText(${JSON.stringify(config())}, ${JSON.stringify(join(dir, "monitor.yaml"))}, ${JSON.stringify(dir)});
const s = await openConfiguredState(loaded, { role: "daemon" });
await s.store.close();`;
  execFileSync(
    process.execPath,
    ["--import", "./test/helpers/loaded-modules.ts", "--input-type=module", "-e", script],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, LOADED_MODULES_FILE: modules },
    },
  );
  const loadedModules = readFileSync(modules, "utf8").split("\n");
  assert.ok(loadedModules.some((m) => m.endsWith("/src/state/sqlite.ts")));
  assert.deepEqual(
    loadedModules.filter((m) => /\/node_modules\/pg(-[a-z]+)?\/|\/src\/state\/postgres\//.test(m)),
    [],
    "neither pg nor the PostgreSQL store is loaded for SQLite",
  );
});

test("with settings.state.url: PostgreSQL, fenced for a daemon replica, unfenced for a tool", async () => {
  const url = cluster.createDatabase("open_pg");
  const dir = tempDir();
  const yaml = config(`  state:\n    url: ${url}\n    lease_renew: 1s\n    lease_ttl: 3s`);
  const loaded = loadConfigText(yaml, join(dir, "monitor.yaml"), dir);
  const daemon = await openConfiguredState(loaded, { role: "daemon", env: { MONITOR_REPLICA_ID: "monitor-0" } });
  assert.equal(daemon.kind, "postgres");
  assert.ok(daemon.cluster);
  assert.equal(daemon.cluster.replicaId, "monitor-0");
  assert.equal(daemon.cluster.store.replicaId, "monitor-0");
  assert.deepEqual([daemon.cluster.leaseRenewMs, daemon.cluster.leaseTtlMs], [1000, 3000]);
  assert.ok(daemon.cluster.keeper);
  assert.match(daemon.path, /^PostgreSQL 127\.0\.0\.1:\d+\/open_pg$/);
  await assert.rejects(
    daemon.store.commitCycle(sampleCommit(0, ["slack"])),
    (e: unknown) => e instanceof AppError && e.code === "E_LEASE_LOST",
    "a replica without the project's lease does not write its cycle",
  );
  await daemon.cluster.keeper.tick(["plasmite"]);
  await daemon.store.commitCycle(sampleCommit(0, ["slack"]));

  const tool = await openConfiguredState(loaded, { role: "tool" });
  assert.equal(tool.cluster?.keeper, null);
  assert.equal(await tool.store.messageCount(), 1, "one state, seen from both");
  await daemon.store.close();
  await tool.store.close();
});

test("a database it cannot use is an E_STATE error that names it without the password; a newer schema is refused", async () => {
  const dir = tempDir();
  const bad = `postgres://postgres:s3cretpassw0rd@127.0.0.1:${cluster.port}/no_such_db`;
  const loaded = loadConfigText(config(`  state:\n    url: ${bad}`), join(dir, "monitor.yaml"), dir);
  await assert.rejects(openConfiguredState(loaded, { role: "daemon" }), (e: unknown) => {
    assert.ok(e instanceof AppError && e.code === "E_STATE", String(e));
    assert.match(e.message, /PostgreSQL 127\.0\.0\.1:\d+\/no_such_db/);
    assert.doesNotMatch(e.message, /s3cretpassw0rd/);
    return true;
  });

  const url = cluster.createDatabase("open_newer");
  const newer = loadConfigText(config(`  state:\n    url: ${url}`), join(dir, "monitor.yaml"), dir);
  const first = await openConfiguredState(newer, { role: "tool" });
  await first.cluster?.pool.query("INSERT INTO schema_migrations (version) VALUES (999)");
  await first.store.close();
  await assert.rejects(
    openConfiguredState(newer, { role: "daemon" }),
    (e: unknown) => e instanceof AppError && e.code === "E_STATE_SCHEMA_NEWER",
  );
});

test("monitor config check: a settings.state.url that is not PostgreSQL exits 2 naming the field, never the value", async () => {
  const dir = tempDir();
  writeConfig(dir, config('  state:\n    url: "mysql://app:hunter2hunter2@db/monitor"'));
  const r = await runCli(["--config", "monitor.yaml", "config", "check"], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /settings\.state\.url: must be a postgres:\/\/ or postgresql:\/\/ URL/);
  assert.doesNotMatch(r.stderr + r.stdout, /hunter2hunter2/);
});

test("every PostgreSQL user, a tool as much as a replica, gets the idle-in-transaction bound and survives a session the server ends", async () => {
  const url = cluster.createDatabase("open_idle");
  const dir = tempDir();
  const loaded = loadConfigText(
    config(`  state:\n    url: ${url}\n    lease_renew: 1s\n    lease_ttl: 3s`),
    join(dir, "monitor.yaml"),
    dir,
  );
  const tool = await openConfiguredState(loaded, { role: "tool" });
  assert.ok(tool.cluster);
  const pool = tool.cluster.pool;
  const { rows } = await pool.query<{ v: string }>(
    "SELECT current_setting('idle_in_transaction_session_timeout') AS v",
  );
  assert.equal(rows[0]?.v, "1500ms", "half the lease TTL, on the tool's connections too");
  // A checked-out client whose session the server ends (this timeout) emits 'error': the process must not crash.
  const client = await pool.connect();
  await client.query("BEGIN");
  const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
  await ended;
  client.release(true);
  assert.equal(await tool.store.messageCount(), 0, "the pool goes on with a fresh session");
  await tool.store.close();
});
