/**
 * The config's YAML reader (src/config/yaml.ts, js-yaml): YAML 1.2 core values, duplicate keys refused, anchors
 * usable but bounded (count, expansion, self-reference), errors with the position in words. Through
 * loadConfigText, as `monitor config check` and every command read a config.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { loadConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { MAX_ALIASES, parseConfigYaml } from "../../src/config/yaml.ts";

const load = (text: string) => loadConfigText(text, "/x/monitor.yaml", "/x", { env: {} });

function issuesOf(text: string): readonly string[] {
  try {
    load(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  assert.fail("the config loaded");
}

describe("config YAML", () => {
  it("reads YAML 1.2 core values: dates and yes/no stay strings, 0o17 is octal, ~ is null", () => {
    assert.deepEqual(parseConfigYaml("d: 2024-01-01\ne: yes\nf: 0o17\ng: ~\nh: '1.0'\n"), {
      d: "2024-01-01",
      e: "yes",
      f: 15,
      g: null,
      h: "1.0",
    });
  });

  it("an empty file, or one of comments only, is an empty document", () => {
    assert.equal(parseConfigYaml(""), null);
    assert.equal(parseConfigYaml("# nothing yet\n\n"), null);
  });

  it("a key given twice is a syntax error with its line and column", () => {
    const [issue] = issuesOf("projects: []\nprojects: []\n");
    assert.match(issue ?? "", /^syntax: duplicated mapping key at line 2, column 1/);
  });

  it("anchors and aliases share a block between projects", () => {
    const text = [
      "projects:",
      "  - name: a",
      "    repo: o/a",
      "    channels: &channels",
      "      crates: { crate: a }",
      "  - name: b",
      "    repo: o/b",
      "    channels: *channels",
      "",
    ].join("\n");
    const { config } = load(text);
    assert.deepEqual(config.projects[1]?.channels, config.projects[0]?.channels);
  });

  it(`refuses more than ${MAX_ALIASES} aliases`, () => {
    const text = `x: &a 1\nl: [${Array.from({ length: MAX_ALIASES + 1 }, () => "*a").join(", ")}]\n`;
    const [issue] = issuesOf(text);
    assert.match(issue ?? "", /^syntax: .*alias/i);
  });

  it("refuses aliases that expand to billions of values, at once", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${prev}`).join(", ")}]`);
    }
    const [issue] = issuesOf(`${levels.join("\n")}\n`);
    assert.match(issue ?? "", /^syntax: aliases expand the document past 1000000 values/);
  });

  it("refuses an alias inside the collection it names", () => {
    const [issue] = issuesOf("a: &x [1, *x]\n");
    assert.match(issue ?? "", /^syntax: an alias refers to the collection that contains it/);
  });
});
