import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import { get, manualClock, UA } from "./helpers.ts";

const TOKEN = "ghp_issues_sim_token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REPO = "sandover/plasmite";

interface IssueJson {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: string;
  state_reason: string | null;
  labels: { name: string }[];
  html_url: string;
  comments: number;
  closed_at: string | null;
}

async function send(method: string, url: string, body: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(url, {
    method,
    headers: { "user-agent": UA, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

/** The rel="next" URL of a Link header, or null. */
function nextLink(link: string | null): string | null {
  return /<([^>]+)>;\s*rel="next"/.exec(link ?? "")?.[1] ?? null;
}

describe("sim: GitHub issues", () => {
  let sim: Sim;
  const clock = manualClock();
  let api: string;

  before(async () => {
    sim = await startSim({ githubToken: TOKEN, world: { now: clock.now } });
    sim.world.addProject(plasmiteProject());
    api = `${sim.urls.githubApi}/repos/${REPO}`;
  });
  after(() => sim.close());

  it("creates an issue (201, Location, the OpenAPI issue fields) and gets it back", async () => {
    const res = await send("POST", `${api}/issues`, { title: "Drift", body: "text", labels: ["release-drift"] });
    assert.equal(res.status, 201);
    const issue = res.json<IssueJson>();
    assert.equal(res.headers.get("location"), `${api}/issues/${issue.number}`);
    assert.equal(issue.title, "Drift");
    assert.equal(issue.body, "text");
    assert.equal(issue.state, "open");
    assert.deepEqual(
      issue.labels.map((l) => l.name),
      ["release-drift"],
    );
    assert.equal(issue.html_url, `${sim.urls.githubWeb}/${REPO}/issues/${issue.number}`);
    const again = await get(`${api}/issues/${issue.number}`);
    assert.equal(again.status, 200);
    assert.equal(again.json<IssueJson>().id, issue.id);
  });

  it("answers writes without a token 401, unknown repos and issues 404, bad input 422 or 400", async () => {
    const noAuth = await send("POST", `${api}/issues`, { title: "x" }, {});
    assert.equal(noAuth.status, 401);
    assert.equal(noAuth.json<{ message: string }>().message, "Requires authentication");
    const wrong = await send("POST", `${api}/issues`, { title: "x" }, { authorization: "Bearer ghp_wrong_token" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json<{ message: string }>().message, "Bad credentials");
    assert.equal((await send("POST", `${sim.urls.githubApi}/repos/nobody/nothing/issues`, { title: "x" })).status, 404);
    assert.equal((await send("PATCH", `${api}/issues/9999`, { state: "closed" })).status, 404);
    const noTitle = await send("POST", `${api}/issues`, { body: "b" });
    assert.equal(noTitle.status, 422);
    assert.match(noTitle.json<{ message: string }>().message, /"title" wasn't supplied/);
    const long = await send("POST", `${api}/issues`, { title: "t", body: "x".repeat(70_000) });
    assert.equal(long.status, 422);
    assert.equal(long.json<{ message: string }>().message, "Validation Failed");
    const created = (await send("POST", `${api}/issues`, { title: "t" })).json<IssueJson>();
    const badState = await send("PATCH", `${api}/issues/${created.number}`, { state: "done" });
    assert.equal(badState.status, 422);
    assert.deepEqual(badState.json<{ errors: unknown[] }>().errors, [
      { resource: "Issue", field: "state", code: "invalid", value: "done" },
    ]);
    assert.equal((await send("POST", `${api}/issues`, "{not json")).status, 400);
    const noBody = await send("POST", `${api}/issues/${created.number}/comments`, {});
    assert.equal(noBody.status, 422);
  });

  it("updates body and state: closing sets closed_at and state_reason, reopening clears them", async () => {
    const created = (await send("POST", `${api}/issues`, { title: "lifecycle", body: "one" })).json<IssueJson>();
    const closed = await send("PATCH", `${api}/issues/${created.number}`, { body: "two", state: "closed" });
    assert.equal(closed.status, 200);
    const c = closed.json<IssueJson>();
    assert.equal(c.body, "two");
    assert.equal(c.state, "closed");
    assert.equal(c.state_reason, "completed");
    assert.notEqual(c.closed_at, null);
    const reopened = (await send("PATCH", `${api}/issues/${created.number}`, { state: "open" })).json<IssueJson>();
    assert.equal(reopened.state, "open");
    assert.equal(reopened.state_reason, "reopened");
    assert.equal(reopened.closed_at, null);
    assert.equal(reopened.body, "two");
  });

  it("adds comments and lists them oldest first, counted on the issue", async () => {
    const created = (await send("POST", `${api}/issues`, { title: "comments" })).json<IssueJson>();
    for (const body of ["first", "second"]) {
      const res = await send("POST", `${api}/issues/${created.number}/comments`, { body });
      assert.equal(res.status, 201);
      assert.match(res.json<{ html_url: string }>().html_url, /#issuecomment-\d+$/);
    }
    const list = await get(`${api}/issues/${created.number}/comments`, AUTH);
    assert.deepEqual(
      list.json<{ body: string }[]>().map((c) => c.body),
      ["first", "second"],
    );
    assert.equal((await get(`${api}/issues/${created.number}`)).json<IssueJson>().comments, 2);
  });

  it("lists by label (case-insensitive, every label must match) and state, paginated with Link", async () => {
    const numbers: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      const res = await send("POST", `${api}/issues`, { title: `paged ${i}`, labels: [{ name: "Paged" }, "extra"] });
      numbers.push(res.json<IssueJson>().number);
    }
    await send("PATCH", `${api}/issues/${numbers[0]}`, { state: "closed" });
    const openOnly = await get(`${api}/issues?labels=paged&per_page=100`, AUTH);
    assert.equal(openOnly.json<IssueJson[]>().length, 4);
    const seen: number[] = [];
    let url: string | null = `${api}/issues?labels=paged,EXTRA&state=all&per_page=2`;
    while (url !== null) {
      const page = await get(url, AUTH);
      assert.equal(page.status, 200);
      seen.push(...page.json<IssueJson[]>().map((i) => i.number));
      url = nextLink(page.headers.get("link"));
    }
    assert.deepEqual(seen, [...numbers].reverse());
    const none = await get(`${api}/issues?labels=paged,absent&state=all`, AUTH);
    assert.deepEqual(none.json<IssueJson[]>(), []);
    assert.equal((await get(`${api}/issues?state=bogus`, AUTH)).status, 422);
  });
});
