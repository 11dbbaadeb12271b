/**
 * 7. HA wall-clock takeover: two `monitor watch` replicas (child processes) on a real PostgreSQL (the tests'
 * throwaway cluster, test/helpers/postgres.ts), 6 projects, lease_ttl 3 s, lease_renew 500 ms. One replica is
 * killed with SIGKILL; the figure is the wall-clock time from the kill to the last of its leases taken by the
 * survivor (lease_events.at, the database's clock on this host), per round. The target is 2 × lease_ttl.
 */
import { HaScene } from "../../test/ha/harness.ts";
import type { BenchContext, SectionResult } from "../lib/context.ts";
import { ms, row } from "../lib/table.ts";

const TTL_MS = 3_000;

export async function runHa(ctx: BenchContext): Promise<SectionResult> {
  const rounds = ctx.quick ? 1 : 3;
  const scene = await HaScene.start({ projects: 6, ttl: `${TTL_MS}ms`, renew: "500ms", schedule: "*/5 * * * * *" });
  const takeovers: number[] = [];
  try {
    scene.startReplica("bench-a");
    scene.startReplica("bench-b");
    for (let i = 0; i < rounds; i++) {
      await scene.until(async () => {
        const owners = [...(await scene.owners()).values()];
        return owners.length === 6 && !owners.includes(null) && new Set(owners).size === 2;
      }, "leases spread over both replicas");
      const victim = i % 2 === 0 ? "bench-a" : "bench-b";
      const killedAt = await scene.kill9(victim);
      await scene.until(
        async () => [...(await scene.owners()).values()].every((o) => o !== null && o !== victim),
        "the survivor holds every lease",
      );
      const events = await scene.takeovers(victim, killedAt - 1_000, TTL_MS);
      const worst = Math.max(...events.map((e) => e.at - killedAt));
      takeovers.push(worst);
      ctx.log(`ha: round ${i + 1}: ${events.length} leases taken over, the last ${worst} ms after the kill`);
      scene.startReplica(victim);
    }
  } finally {
    await scene.close();
  }
  const sorted = [...takeovers].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const worst = sorted.at(-1) ?? 0;
  const target = 2 * TTL_MS;
  return {
    rows: [
      row(
        "ha",
        `takeover after kill -9, wall clock (lease_ttl ${TTL_MS / 1000} s, median of ${rounds})`,
        ms(median),
        `<= ${ms(target)}`,
        median,
        `${(median / target).toFixed(2)}x`,
        median <= target,
      ),
      row("ha", "takeover after kill -9, wall clock (worst)", ms(worst), "info", worst, "", null),
    ],
    data: { lease_ttl_ms: TTL_MS, lease_renew_ms: 500, takeover_ms: takeovers },
  };
}
