import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { parsePrometheusText, sample } from "./prom-parse.ts";

/** The strict parser must accept valid expositions and reject each kind of broken one. */
describe("strict Prometheus text-format parser (test helper)", () => {
  it("parses HELP/TYPE, escaped labels, NaN/±Inf values and timestamps", () => {
    const text = [
      "# HELP m_total A counter with \\\\ and \\n in its help.",
      "# TYPE m_total counter",
      'm_total{a="x\\"y",b="line\\nbreak",c="back\\\\slash"} 3 1700000000000',
      "# TYPE g gauge",
      "g NaN",
      'g{k="v",} -Inf',
      "# a plain comment",
      "# TYPE h histogram",
      'h_bucket{le="0.5"} 1',
      'h_bucket{le="+Inf"} 2',
      "h_sum 1.5e0",
      "h_count 2",
      "",
    ].join("\n");
    const f = parsePrometheusText(text);
    assert.equal(f.get("m_total")?.help, "A counter with \\ and \n in its help.");
    assert.deepEqual(f.get("m_total")?.samples[0], {
      name: "m_total",
      labels: { a: 'x"y', b: "line\nbreak", c: "back\\slash" },
      value: 3,
      timestamp: 1700000000000,
    });
    assert.ok(Number.isNaN(f.get("g")?.samples[0]?.value ?? 0));
    assert.equal(sample(f, "g", { k: "v" }), -Infinity);
    assert.equal(sample(f, "h_count"), 2);
  });

  it("accepts what prom-client writes", async () => {
    const registry = new Registry();
    const c = new Counter({ name: "x_total", help: "x", labelNames: ["host"], registers: [registry] });
    c.inc({ host: 'we"ird\\host\n' }, 2);
    const h = new Histogram({
      name: "d_seconds",
      help: "d",
      labelNames: ["host"],
      buckets: [0.1, 1],
      registers: [registry],
    });
    h.observe({ host: "a" }, 0.5);
    h.observe({ host: "a" }, 5);
    const f = parsePrometheusText(await registry.metrics());
    assert.equal(sample(f, "x_total", { host: 'we"ird\\host\n' }), 2);
    assert.equal(sample(f, "d_seconds_bucket", { host: "a", le: "+Inf" }), 2);
  });

  const bad: [string, string, RegExp][] = [
    ["sample without TYPE", "m 1\n", /no family declared/],
    ["unknown type", "# TYPE m widget\nm 1\n", /unknown type/],
    ["TYPE after samples", "# TYPE m gauge\nm 1\n# TYPE m gauge\n", /second TYPE/],
    ["bad value", "# TYPE m gauge\nm one\n", /invalid value/],
    ["bad timestamp", "# TYPE m gauge\nm 1 1.5\n", /invalid timestamp/],
    ["bad escape", '# TYPE m gauge\nm{a="\\t"} 1\n', /invalid escape/],
    ["unterminated label", '# TYPE m gauge\nm{a="x} 1\n', /unterminated|expected/],
    ["repeated label", '# TYPE m gauge\nm{a="1",a="2"} 1\n', /repeated/],
    ["duplicate series", '# TYPE m gauge\nm{a="1"} 1\nm{a="1"} 2\n', /duplicate series/],
    ["bad metric name", "# TYPE 1m gauge\n", /invalid metric name/],
    ["negative counter", "# TYPE c_total counter\nc_total -1\n", /counter/],
    ["interleaved families", "# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n", /not contiguous/],
    ["no trailing newline", "# TYPE m gauge\nm 1", /newline/],
    ["histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /\+Inf/],
    ["histogram +Inf != count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', /!= _count/],
    [
      "histogram not cumulative",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /below/,
    ],
    ["histogram without _sum", '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n', /no _sum/],
    ["bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n", /without le/],
  ];
  for (const [name, text, error] of bad) {
    it(`rejects: ${name}`, () => {
      assert.throws(() => parsePrometheusText(text), error);
    });
  }
});
