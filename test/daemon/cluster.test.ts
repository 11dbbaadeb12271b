/**
 * ClusterMembership against a scripted lease keeper: what the daemon hears (acquired / lost), what it may run
 * (owns, generation, mayDeliver, hand-off to a preferred live replica) and the lease health /readyz reports.
 * The real keeper on a real PostgreSQL is exercised by test/ha/.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { ClusterMembership, type LeaseRounds } from "../../src/daemon/cluster.ts";
import { silentLogger } from "../../src/log.ts";
import { rendezvousOwner, type LeaseTick } from "../../src/state/postgres/leases.ts";
import type { LockStore } from "../../src/state/types.ts";

type Round = { owned: Record<string, number>; live?: string[] } | Error;

/** A keeper that plays `rounds` in order (the last one repeats) and tells when each round has run. */
class ScriptedKeeper implements LeaseRounds {
  readonly replicaId = "me";
  readonly #rounds: Round[];
  #owned = new Map<string, number>();
  ticks = 0;
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(rounds: Round[]) {
    this.#rounds = rounds;
  }

  tick(): Promise<LeaseTick> {
    const round = this.#rounds[Math.min(this.ticks, this.#rounds.length - 1)] as Round;
    this.ticks++;
    queueMicrotask(() => {
      for (const w of this.#waiters.filter((x) => this.ticks >= x.n)) w.resolve();
    });
    if (round instanceof Error) {
      this.#owned = new Map();
      return Promise.reject(round);
    }
    const before = this.#owned;
    this.#owned = new Map(Object.entries(round.owned));
    return Promise.resolve({
      owned: this.#owned,
      acquired: [...this.#owned.keys()].filter((p) => !before.has(p)),
      lost: [...before.keys()].filter((p) => !this.#owned.has(p)),
      released: [],
      takeovers: 0,
      liveReplicas: round.live ?? ["me"],
    });
  }

  releaseAll(): Promise<void> {
    this.#owned = new Map();
    return Promise.resolve();
  }

  generation(project: string): number | undefined {
    return this.#owned.get(project);
  }

  owned(): ReadonlyMap<string, number> {
    return this.#owned;
  }

  /** Resolves once `n` rounds have run (plus a turn, so the membership has processed the last one). */
  rounds(n: number): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ n, resolve: () => setImmediate(resolve) }));
  }
}

const lock: LockStore = {
  acquireDaemonLock: () => Promise.resolve(null),
  heartbeat: () => Promise.resolve(),
  releaseDaemonLock: () => Promise.resolve(),
};

function membership(keeper: ScriptedKeeper) {
  const events: string[] = [];
  const m = new ClusterMembership({
    keeper,
    lock,
    projects: ["a", "b", "c"],
    renewMs: 5,
    ttlMs: 60_000,
    log: silentLogger(),
  });
  m.watch({
    busy: () => false,
    acquired: (ps) => events.push(`acquired ${[...ps].join(",")}`),
    lost: (ps) => events.push(`lost ${[...ps].join(",")}`),
  });
  return { m, events };
}

describe("ClusterMembership", () => {
  it("owns what its rounds hold, hears gains and losses, and is not ready while renewal fails", async () => {
    const keeper = new ScriptedKeeper([
      { owned: { a: 1, b: 1 } },
      { owned: { a: 1 } },
      new Error("connection refused"),
      { owned: { a: 2, c: 1 } },
    ]);
    const { m, events } = membership(keeper);
    await m.acquire();
    assert.equal(m.owns("a"), true);
    assert.equal(m.generation("b"), 1);
    assert.equal(m.owns("c"), false);
    assert.deepEqual(events, [], "nothing reaches the daemon before start()");
    m.start();
    assert.deepEqual(events, ["acquired a,b"], "start() runs what the first round took");

    await keeper.rounds(2);
    assert.deepEqual(events.at(-1), "lost b");
    assert.equal(m.owns("b"), false);

    await keeper.rounds(3);
    assert.deepEqual(events.at(-1), "lost a", "a failed round loses everything (not knowing is not owning)");
    const failing = m.health();
    assert.equal(failing.ok, false);
    assert.equal(failing.consecutive_failures, 1);
    assert.match(failing.last_error ?? "", /connection refused/);
    assert.deepEqual(failing.owned, []);
    assert.equal(m.owns("a"), false);
    assert.equal(m.mayDeliver("a"), false);
    assert.equal(m.mayDeliver("*"), false);

    await keeper.rounds(4);
    assert.deepEqual(events.at(-1), "acquired a,c");
    assert.equal(m.generation("a"), 2, "the new generation fences the work from now on");
    const recovered = m.health();
    assert.equal(recovered.ok, true);
    assert.deepEqual(recovered.owned, ["a", "c"]);
    assert.equal(m.mayDeliver("*"), true);
    m.stop();
    await m.release();
    assert.equal(m.owns("a"), false, "nothing is owned after release");
  });

  it("starts nothing new for a project a live replica is preferred for (it is being handed off)", async () => {
    const live = ["me", "peer"];
    const mine = ["a", "b", "c", "d", "e", "f"].find((p) => rendezvousOwner(p, live) === "peer") as string;
    const keeper = new ScriptedKeeper([{ owned: { [mine]: 3 } }, { owned: { [mine]: 3 }, live }]);
    const { m } = membership(keeper);
    await m.acquire();
    assert.equal(m.owns(mine), true, "alone, the replica runs everything it holds");
    m.start();
    await keeper.rounds(2);
    assert.equal(m.owns(mine), false, "with the preferred peer live, the project is left for the hand-off");
    assert.equal(m.generation(mine), undefined);
    m.stop();
    await m.release();
  });
});
