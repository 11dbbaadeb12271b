/**
 * Lints the Dockerfile with the rule checker in ./dockerfile.ts (hadolint is not installable here), proves each rule
 * fires on a broken variant of the real file, and checks the build context (.dockerignore) against the COPY lines.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { ServerConfig } from "../../src/config/schema.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import {
  RULES,
  copyPaths,
  dockerignoreExcludes,
  healthcheckCommand,
  lintDockerfile,
  parseDockerfile,
  type LintOptions,
  type RuleId,
} from "./dockerfile.ts";

const DOCKERFILE = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
const DOCKERIGNORE = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8");
const deployConfig = parseYaml(readFileSync(join(REPO_ROOT, "deploy/config/monitor.yaml"), "utf8")) as {
  settings: { state_dir: string };
};

const OPTIONS: LintOptions = {
  port: Number(ServerConfig.parse({}).listen.split(":").at(-1)),
  stateDir: deployConfig.settings.state_dir,
  env: { MONITOR_CONFIG: "/config/monitor.yaml", NODE_ENV: "production" },
};

const lint = (text: string) => lintDockerfile(parseDockerfile(text), OPTIONS);

describe("Dockerfile lint", () => {
  it("the real Dockerfile passes every rule", () => {
    assert.deepEqual(lint(DOCKERFILE), []);
  });

  it("uses the server's default port and the deploy config's state dir", () => {
    assert.equal(OPTIONS.port, 8080);
    assert.equal(OPTIONS.stateDir, "/var/lib/release-monitor");
  });

  it("parses stages, flags, exec form and continuations", () => {
    const df = parseDockerfile(DOCKERFILE);
    assert.equal(df.directives["syntax"], "docker/dockerfile:1");
    assert.deepEqual(
      df.stages.map((s) => [s.name, s.image]),
      [
        ["build", "node:24.21.0-bookworm-slim"],
        ["runtime", "node:24.21.0-bookworm-slim"],
      ],
    );
    const runtime = df.stages[1]!;
    const apt = runtime.instructions.find((i) => i.keyword === "RUN")!;
    assert.match(apt.args, /^apt-get update && apt-get install -y --no-install-recommends tini && rm -rf/);
    const hc = healthcheckCommand(runtime.instructions.find((i) => i.keyword === "HEALTHCHECK")!);
    assert.equal(hc.exec?.[0], "node");
    assert.deepEqual(runtime.instructions.find((i) => i.keyword === "CMD")!.exec, ["watch"]);
    const fromBuild = runtime.instructions.find((i) => i.keyword === "COPY" && i.flags["from"] === "build")!;
    assert.deepEqual(copyPaths(fromBuild), { sources: ["/src/dist"], dest: "./dist" });
    assert.equal(fromBuild.flags["chown"], "root:root");

    const tricky = parseDockerfile(
      '# syntax=docker/dockerfile:1\nARG V=1\nFROM node:24.0.0 AS a\nRUN echo one \\\n  # dropped\n  && echo two\nCOPY ["a b", "/x/"]\n',
    );
    assert.equal(tricky.stages[0]!.instructions[1]!.args, "echo one && echo two");
    assert.deepEqual(copyPaths(tricky.stages[0]!.instructions[2]!), { sources: ["a b"], dest: "/x/" });
    assert.throws(() => parseDockerfile("RUN x\nFROM node:24.0.0\n"), /only ARG/);
  });

  // Each broken variant of the real file must trip its rule: the checker is not a rubber stamp.
  const mutations: { rule: RuleId; name: string; from: string | RegExp; to: string }[] = [
    {
      rule: "RM001",
      name: "floating major tag",
      from: "node:24.21.0-bookworm-slim AS runtime",
      to: "node:24-bookworm-slim AS runtime",
    },
    { rule: "DL3007", name: "latest", from: "node:24.21.0-bookworm-slim AS build", to: "node:latest AS build" },
    { rule: "DL3006", name: "untagged base", from: "node:24.21.0-bookworm-slim AS runtime", to: "node AS runtime" },
    { rule: "DL3002", name: "no USER", from: "USER 1000:1000\n", to: "" },
    { rule: "DL3002", name: "USER root", from: "USER 1000:1000", to: "USER root" },
    { rule: "DL3002", name: "non-numeric USER", from: "USER 1000:1000", to: "USER node" },
    { rule: "RM003", name: "no HEALTHCHECK", from: /HEALTHCHECK [^\n]*\\\n[^\n]*\n/, to: "" },
    {
      rule: "RM003",
      name: "curl HEALTHCHECK",
      from: /HEALTHCHECK [^\n]*\\\n[^\n]*\n/,
      to: "HEALTHCHECK CMD curl -f http://127.0.0.1:8080/healthz\n",
    },
    { rule: "RM003", name: "wrong path", from: "8080/healthz'", to: "8080/'" },
    { rule: "DL3009", name: "apt lists kept", from: "&& rm -rf /var/lib/apt/lists/* \\\n", to: "" },
    {
      rule: "DL3009",
      name: "no apt-get update",
      from: "RUN apt-get update \\\n  && apt-get install",
      to: "RUN apt-get install",
    },
    { rule: "DL3015", name: "recommends", from: "--no-install-recommends ", to: "" },
    {
      rule: "DL3005",
      name: "upgrade",
      from: "&& apt-get install -y",
      to: "&& apt-get upgrade -y && apt-get install -y",
    },
    { rule: "DL3027", name: "apt", from: "RUN apt-get update", to: "RUN apt update && apt-get update" },
    { rule: "RM004", name: "COPY without --chown", from: "COPY --chown=root:root examples", to: "COPY examples" },
    { rule: "RM004", name: "chown -R", from: "USER 1000:1000", to: "RUN chown -R 1000:1000 /app\nUSER 1000:1000" },
    {
      rule: "DL3020",
      name: "ADD",
      from: "COPY --chown=root:root examples ./examples",
      to: "ADD --chown=root:root examples ./examples",
    },
    { rule: "DL3025", name: "shell-form CMD", from: 'CMD ["watch"]', to: "CMD watch" },
    {
      rule: "DL3025",
      name: "shell-form ENTRYPOINT",
      from: /ENTRYPOINT \[.*\]/,
      to: "ENTRYPOINT /usr/bin/tini -- node /app/bin/monitor.js",
    },
    { rule: "RM005", name: "no init", from: '["/usr/bin/tini", "-s", "--", "node"', to: '["node"' },
    {
      rule: "RM005",
      name: "tini not installed",
      from: "--no-install-recommends tini",
      to: "--no-install-recommends ca-certificates",
    },
    { rule: "RM005", name: "tini without --", from: '"-s", "--", "node"', to: '"-s", "node"' },
    { rule: "RM006", name: "wrong EXPOSE", from: "EXPOSE 8080", to: "EXPOSE 9090" },
    { rule: "RM007", name: "no VOLUME", from: 'VOLUME ["/var/lib/release-monitor"]\n', to: "" },
    {
      rule: "RM007",
      name: "shell-form VOLUME",
      from: 'VOLUME ["/var/lib/release-monitor"]',
      to: "VOLUME /var/lib/release-monitor",
    },
    { rule: "RM002", name: "dev deps in the runtime", from: "npm ci --omit=dev", to: "npm ci" },
    { rule: "RM002", name: "prepare runs in the runtime", from: "--omit=dev --ignore-scripts", to: "--omit=dev" },
    {
      rule: "RM002",
      name: "compiling in the runtime",
      from: "USER 1000:1000",
      to: "RUN npm run build\nUSER 1000:1000",
    },
    {
      rule: "RM002",
      name: "single stage",
      from: /^FROM node:24\.21\.0-bookworm-slim AS build[\s\S]*?RUN npm run build\n/m,
      to: "",
    },
    { rule: "DL3000", name: "relative WORKDIR", from: "WORKDIR /app", to: "WORKDIR app" },
    { rule: "DL3003", name: "cd", from: "RUN npm run build", to: "RUN cd /src && npm run build" },
    {
      rule: "DL4006",
      name: "pipe without pipefail",
      from: "RUN npm run build",
      to: "RUN npm run build | tee build.log",
    },
    {
      rule: "DL3016",
      name: "npm install",
      from: "npm ci --ignore-scripts --no-audit",
      to: "npm install --ignore-scripts --no-audit",
    },
    { rule: "RM008", name: "no MONITOR_CONFIG", from: " \\\n  MONITOR_CONFIG=/config/monitor.yaml", to: "" },
    {
      rule: "RM009",
      name: "baked secret",
      from: "ENV NODE_ENV=production",
      to: "ENV GITHUB_TOKEN=ghp_x NODE_ENV=production",
    },
    { rule: "DL4000", name: "MAINTAINER", from: "WORKDIR /app", to: "MAINTAINER someone\nWORKDIR /app" },
  ];
  for (const m of mutations) {
    it(`flags ${m.rule} (${m.name})`, () => {
      const broken = DOCKERFILE.replace(m.from, m.to);
      assert.notEqual(broken, DOCKERFILE, "the mutation did not apply: update it to the current Dockerfile");
      const findings = lint(broken);
      assert.ok(
        findings.some((f) => f.rule === m.rule),
        `expected ${m.rule} (${RULES[m.rule]}), got ${JSON.stringify(findings)}`,
      );
    });
  }

  it("every rule has a broken variant above", () => {
    assert.deepEqual(
      Object.keys(RULES)
        .filter((r) => !mutations.some((m) => m.rule === r))
        .sort(),
      [],
    );
  });
});

describe(".dockerignore", () => {
  const copies = parseDockerfile(DOCKERFILE)
    .stages.flatMap((s) => s.instructions)
    .filter((i) => i.keyword === "COPY" && i.flags["from"] === undefined);

  it("keeps every COPY source in the build context", () => {
    assert.ok(copies.length >= 5);
    for (const c of copies) {
      for (const src of copyPaths(c).sources) {
        assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src} (line ${c.line}): no such file in the repo`);
        assert.equal(dockerignoreExcludes(DOCKERIGNORE, src), false, `COPY ${src} is excluded by .dockerignore`);
      }
    }
    assert.equal(dockerignoreExcludes(DOCKERIGNORE, "src/cli/main.ts"), false);
  });

  it("keeps local state, secrets and dev files out of the context", () => {
    for (const p of [
      "node_modules/typescript/package.json",
      ".git/config",
      ".tools/node_modules/.bin/node",
      "dist/cli/main.js",
      "test/deploy/dockerfile.ts",
      "deploy/monitor.env",
      ".env",
      ".monitor-state/monitor.db",
      "coverage/lcov.info",
    ]) {
      assert.equal(dockerignoreExcludes(DOCKERIGNORE, p), true, `${p} would be sent to the daemon`);
    }
  });

  it("matches like Docker: last rule wins, * matches dot files, ** spans directories", () => {
    assert.equal(dockerignoreExcludes("*\n!src\n", ".git"), true);
    assert.equal(dockerignoreExcludes("*\n!src\n", "src/a/b.ts"), false);
    assert.equal(dockerignoreExcludes("**/*.env\n", "deploy/x/.y.env"), true);
    assert.equal(dockerignoreExcludes("**/*.env\n!keep.env\n", "keep.env"), false);
    assert.equal(dockerignoreExcludes("dist/\n", "distribution/a"), false);
  });
});
