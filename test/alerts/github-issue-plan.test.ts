import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BODY_BUDGET,
  eventMarker,
  inlineText,
  issueMarker,
  markedKey,
  parseIssueBody,
  renderIssueBody,
  type IssueDoc,
} from "../../src/alerts/sinks/github-issue/body.ts";
import { planIssue, type CurrentIssue, type IssuePlan } from "../../src/alerts/sinks/github-issue/plan.ts";
import type { AlertKind, AlertMessage } from "../../src/alerts/types.ts";
import { rolledDraft } from "../../src/alerts/rollup.ts";
import { makeAlert, makeIncident } from "../fakes/alerts.ts";

const npm = makeIncident({ channel: "npm", code: "version-missing", message: "npm has no version 0.8.0" });
const pypi = makeIncident({ channel: "pypi", code: "file-missing", subject: "x.whl", message: "pypi lacks x.whl" });

function msg(kind: AlertKind, incident = npm, id = `${kind}-${incident.channel}`): AlertMessage {
  return makeAlert(kind, {
    id,
    incident,
    resolution: kind === "resolve" ? `fixed: ${incident.channel} is now ok` : null,
  });
}

/** Applies a plan to an issue the way GitHub would (the sink's I/O, without the network). */
function apply(current: CurrentIssue | null, plan: IssuePlan): CurrentIssue | null {
  if (plan.action === "create") return { number: 1, body: plan.body, state: "open" };
  if (plan.action === "update" && current) return { ...current, body: plan.body, state: plan.state ?? current.state };
  return current;
}

function checklist(issue: CurrentIssue | null): string[] {
  return (parseIssueBody(issue?.body)?.items ?? []).map((i) => `${i.done ? "x" : " "} ${i.id.split("|")[2]}`);
}

describe("github-issue body", () => {
  it("round-trips: parse(render(doc)) is doc, whatever the incident text holds", () => {
    const doc: IssueDoc = {
      project: "plas mite",
      tag: "v0.8.0+build",
      items: [
        { id: "a|b|npm|code|sub -->", done: false, text: inlineText("x --> <b>@team</b> & [ ] `y`\nnext line") },
        { id: "a|b|pypi|code|", done: true, text: "done text" },
      ],
      omitted: 2,
      lastEvent: { id: "42", comment: true },
    };
    const body = renderIssueBody(doc, "https://status.example/p");
    assert.deepEqual(parseIssueBody(body), doc);
    assert.ok(body.startsWith(issueMarker("plas mite", "v0.8.0+build")));
    assert.deepEqual(markedKey(body), { project: "plas mite", tag: "v0.8.0+build" });
    assert.doesNotMatch(body, /<b>|@team/);
    assert.equal(body.split("\n").filter((l) => l.startsWith("- [")).length, 2);
  });

  it("has no key without the marker, and ignores lines it did not write", () => {
    assert.equal(parseIssueBody("a plain issue"), null);
    assert.equal(markedKey(null), null);
    const body = renderIssueBody(
      { project: "p", tag: "v1", items: [{ id: "i1", done: false, text: "t" }], omitted: 0, lastEvent: null },
      null,
    );
    const edited = `${body}- [ ] someone's own line\n- [x] a line <!-- release-monitor:item:%E0%A4%A -->\n`;
    assert.deepEqual(parseIssueBody(edited)?.items, [{ id: "i1", done: false, text: "t" }]);
  });

  it("stays under GitHub's body limit by dropping the oldest resolved items, never open ones", () => {
    const items = Array.from({ length: 400 }, (_, k) => ({ id: `id-${k}`, done: k % 4 !== 0, text: "x".repeat(300) }));
    const body = renderIssueBody({ project: "p", tag: "v1", items, omitted: 0, lastEvent: null }, null);
    assert.ok(body.length <= BODY_BUDGET);
    const back = parseIssueBody(body)!;
    assert.equal(back.items.filter((i) => !i.done).length, 100);
    assert.equal(back.items.length + back.omitted, 400);
  });
});

describe("github-issue plan", () => {
  it("walks open -> second incident -> one resolved -> all resolved -> drift returns", () => {
    const steps: {
      m: AlertMessage;
      action: string;
      list: string[];
      state: "open" | "closed";
      comment: RegExp | null;
    }[] = [
      { m: msg("open"), action: "create", list: ["  npm"], state: "open", comment: null },
      { m: msg("open", pypi), action: "update", list: ["  npm", "  pypi"], state: "open", comment: /opened.*2 open/s },
      {
        m: msg("resolve"),
        action: "update",
        list: ["x npm", "  pypi"],
        state: "open",
        comment: /Resolved.*1 open, 1 resolved/s,
      },
      { m: msg("resolve", pypi), action: "update", list: ["x npm", "x pypi"], state: "closed", comment: /closing/ },
      { m: msg("reopen"), action: "update", list: ["  npm", "x pypi"], state: "open", comment: /returned.*Reopening/s },
    ];
    let issue: CurrentIssue | null = null;
    for (const s of steps) {
      const plan = planIssue(issue, s.m);
      assert.equal(plan.action, s.action, s.m.id);
      if (plan.action === "update") {
        if (s.comment) assert.match(plan.comment ?? "", s.comment, s.m.id);
        assert.ok(plan.comment?.includes(eventMarker(s.m.id)));
      }
      issue = apply(issue, plan);
      assert.deepEqual(checklist(issue), s.list, s.m.id);
      assert.equal(issue?.state, s.state, s.m.id);
    }
  });

  it("does nothing for what the issue already shows, and for alerts that have no release issue", () => {
    const open = msg("open");
    const issue = apply(null, planIssue(null, open));
    const cases: [string, CurrentIssue | null, AlertMessage][] = [
      ["the same open again (a retried create)", issue, open],
      ["a reminder of a listed item", issue, msg("remind", npm, "r1")],
      ["a resolve with no issue", null, msg("resolve")],
      ["registry degraded", null, makeAlert("degraded", { incident: makeIncident({ project: "*", tag: "*" }) })],
    ];
    for (const [what, current, m] of cases) assert.equal(planIssue(current, m).action, "none", what);
  });

  it("creates the issue for a reminder when none exists (a sink added while drift was open)", () => {
    assert.equal(planIssue(null, msg("remind")).action, "create");
  });

  it("a retried update whose body landed only re-ensures the comment, with the message's marker", () => {
    let issue = apply(null, planIssue(null, msg("open")));
    const second = msg("open", pypi, "m2");
    issue = apply(issue, planIssue(issue, second));
    const retry = planIssue(issue, second);
    assert.equal(retry.action, "comment");
    if (retry.action === "comment") {
      assert.equal(retry.marker, eventMarker("m2"));
      assert.ok(retry.comment.includes(retry.marker));
    }
  });

  it("refreshes an item's wording without a comment", () => {
    const issue = apply(null, planIssue(null, msg("open")));
    const reworded = msg("remind", { ...npm, message: "npm still has no 0.8.0" }, "r2");
    const plan = planIssue(issue, reworded);
    assert.equal(plan.action, "update");
    if (plan.action === "update") {
      assert.equal(plan.comment, null);
      assert.equal(plan.state, null);
      assert.match(plan.body, /npm still has no 0\.8\.0/);
    }
  });

  it("applies a rolled-up message (group: release) as one change: one create, then one update with one comment", () => {
    const cratesInc = makeIncident({ channel: "crates", code: "yanked", message: "crates yanked 0.8.0" });
    const rolled = (kind: AlertKind, id: string): AlertMessage => {
      const members = [npm, pypi, cratesInc].map((incident) => {
        const { id: _id, ...draft } = msg(kind, incident);
        return draft;
      });
      return { ...rolledDraft(members), id };
    };
    const created = planIssue(null, rolled("open", "roll-1"));
    assert.equal(created.action, "create");
    let issue = apply(null, created);
    assert.deepEqual(checklist(issue), ["  npm", "  pypi", "  crates"]);
    assert.equal(planIssue(issue, rolled("open", "roll-1")).action, "none", "a retried create repeats nothing");

    const resolved = planIssue(issue, rolled("resolve", "roll-2"));
    assert.equal(resolved.action, "update");
    if (resolved.action !== "update") return;
    assert.equal(resolved.state, "closed");
    assert.match(resolved.comment ?? "", /Resolved \(3\)/);
    assert.equal((resolved.comment ?? "").match(/^- /gm)?.length, 3, "the one comment lists every item");
    assert.match(resolved.comment ?? "", /closing/);
    issue = apply(issue, resolved);
    assert.deepEqual(checklist(issue), ["x npm", "x pypi", "x crates"]);
    const retry = planIssue(issue, rolled("resolve", "roll-2"));
    assert.equal(retry.action, "comment", "a retried update only re-ensures its one comment");
  });
});
