import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(() => cluster.stop());

test("the harness starts a real PostgreSQL server on loopback", async () => {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string; addr: string | null }>(
      "select current_setting('server_version_num') as v, inet_server_addr()::text as addr",
    );
    assert.ok(Number(rows[0]!.v) >= 130000, `server_version_num ${rows[0]!.v}`);
    assert.match(rows[0]!.addr ?? "", /^127\.0\.0\.1/);
  } finally {
    await client.end();
  }
});

test("each database the harness creates is separate and empty", async () => {
  const a = new pg.Client({ connectionString: cluster.createDatabase("iso_a") });
  const b = new pg.Client({ connectionString: cluster.createDatabase("iso_b") });
  await a.connect();
  await b.connect();
  try {
    await a.query("create table only_in_a (x int)");
    const { rows } = await b.query<{ n: string }>(
      "select count(*)::text as n from information_schema.tables where table_name = 'only_in_a'",
    );
    assert.equal(rows[0]!.n, "0");
  } finally {
    await a.end();
    await b.end();
  }
});
