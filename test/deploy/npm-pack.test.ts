/**
 * The npm package as users get it: `npm pack` (prepack cleans dist/, prepare runs the real `npm run build`) on a copy
 * of the repository, then `npm install -g <tarball>` into an empty prefix, then the installed `monitor` bin.
 * Dependencies come from the local npm cache first (--prefer-offline), else the configured registry. Slow (~15 s).
 */
import { strict as assert } from "node:assert";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT, tempDir } from "../helpers/cli.ts";
import { devOnlyPackages, run, tail, toolEnv, type RunResult } from "./proc.ts";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};

/** Not copied: installed or generated trees. The copy keeps src/, test/, docs/, deploy/ so the tarball check bites. */
const SKIP = new Set([
  "node_modules",
  ".git",
  ".tools",
  "dist",
  "coverage",
  "test-artifacts",
  ".scratch",
  ".monitor-state",
]);

/** Every package name the installed tree's package.json files depend on (dependencies, optional and peer), nested too. */
function namesNeededByTree(root: string): Set<string> {
  const needed = new Set<string>();
  const visit = (dir: string): void => {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const m = JSON.parse(readFileSync(manifest, "utf8")) as Record<string, Record<string, string> | undefined>;
      for (const field of ["dependencies", "optionalDependencies", "peerDependencies"])
        for (const name of Object.keys(m[field] ?? {})) needed.add(name);
    }
    const modules = join(dir, "node_modules");
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith(".")) continue;
      if (entry.startsWith("@"))
        for (const scoped of readdirSync(join(modules, entry))) visit(join(modules, entry, scoped));
      else visit(join(modules, entry));
    }
  };
  visit(root);
  return needed;
}

describe("npm pack + npm install -g", { timeout: 600_000 }, () => {
  const work = tempDir("rm-pack-");
  const copy = join(work, "repo");
  const out = join(work, "out");
  const prefix = join(work, "prefix");
  let tarball = "";
  let files: string[] = [];
  let installed = "";
  const timings: Record<string, number> = {};
  const must = (step: string, r: RunResult) => {
    timings[step] = r.ms;
    assert.equal(r.code, 0, `${step} failed (exit ${r.code}, signal ${r.signal})\n${tail(r)}`);
    return r;
  };

  before(async () => {
    cpSync(REPO_ROOT, copy, {
      recursive: true,
      filter: (src) => !SKIP.has(relative(REPO_ROOT, src).split(sep)[0] ?? ""),
    });
    // tsc for the build comes from the repo's dev install; a leftover from an older build must not be packed.
    symlinkSync(join(REPO_ROOT, "node_modules"), join(copy, "node_modules"), "dir");
    mkdirSync(join(copy, "dist"));
    writeFileSync(join(copy, "dist/stale-from-an-old-build.js"), "throw new Error('stale');\n");
    mkdirSync(out);
    const packed = must("npm pack", await run("npm", ["pack", "--pack-destination", out], { cwd: copy }));
    const tgz = readdirSync(out).filter((f) => f.endsWith(".tgz"));
    assert.deepEqual(tgz, [`${pkg.name}-${pkg.version}.tgz`], tail(packed));
    tarball = join(out, tgz[0]!);
    files = must("tar", await run("tar", ["-tzf", tarball], { cwd: work }))
      .stdout.split("\n")
      .filter(Boolean);
    must(
      "npm install -g",
      await run("npm", ["install", "-g", tarball, "--prefix", prefix, "--prefer-offline"], { cwd: work }),
    );
    installed = join(prefix, "lib/node_modules", pkg.name);
  });

  it("packs only runtime files: dist/ (freshly built), bin/, examples/, package.json, README", () => {
    const allowed =
      /^package\/(package\.json|README\.md|LICENSE(\.md)?|bin\/[^/]+\.js|dist\/.+\.js|examples\/[^/]+\.ya?ml)$/;
    const unexpected = files.filter((f) => !allowed.test(f));
    assert.deepEqual(unexpected, [], "unexpected files in the tarball");
    for (const f of files) {
      assert.doesNotMatch(f, /^package\/(src|test|\.tools|docs|deploy|scripts|bench|node_modules)\//);
      assert.doesNotMatch(f, /\.(ts|map)$/);
    }
    for (const f of ["bin/monitor.js", "dist/cli/main.js", "examples/plasmite.yaml", "package.json"]) {
      assert.ok(files.includes(`package/${f}`), `${f} missing from the tarball`);
    }
    assert.ok(!files.includes("package/dist/stale-from-an-old-build.js"), "prepack did not clean dist/");
  });

  it("ships every chunk of the code-split bundle, and not the build's metafile", () => {
    // The copy's dist/ is what `prepare` just built for the tarball.
    const built = readdirSync(join(copy, "dist"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".js"))
      .map((f) => `package/dist/${f.split(sep).join("/")}`)
      .sort();
    assert.ok(built.length > 10, `expected a code-split bundle, got ${built.join(", ")}`);
    assert.deepEqual(files.filter((f) => f.startsWith("package/dist/")).sort(), built);
    assert.ok(existsSync(join(copy, "dist/meta.json")), "the build wrote no metafile");
  });

  it("installs the bin and production dependencies only", () => {
    for (const name of Object.keys(pkg.bin)) assert.ok(existsSync(join(prefix, "bin", name)), `${name} not linked`);
    // Dev-only packages per the lockfile (some dev dependencies, like @types/node, are also production ones).
    // The tarball carries no lockfile, so npm resolves today's versions: a newer release of a production
    // dependency may need a package the lockfile only has for development (on 2026-12-04 a fresh resolution
    // brought minimatch 11 and with it @isaacs/nonrecursive-glob-match). Such a package is a production one here;
    // a leak is a dev-only package that nothing installed needs.
    const devOnly = devOnlyPackages(REPO_ROOT);
    assert.ok(devOnly.includes("typescript"));
    const needed = namesNeededByTree(installed);
    assert.ok(needed.has("commander"), "the dependency walk found the package's own dependencies");
    for (const dev of devOnly) {
      if (needed.has(dev)) continue;
      assert.ok(!existsSync(join(installed, "node_modules", dev)), `dev-only ${dev} installed`);
    }
    assert.ok(existsSync(join(installed, "node_modules/commander")));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  const monitor = (args: string[]) =>
    run(join(prefix, "bin/monitor"), args, { cwd: work, env: toolEnv(), timeoutMs: 60_000 });

  it("monitor --version", async () => {
    const r = await monitor(["--version"]);
    assert.equal(r.code, 0, tail(r));
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("monitor config check --config <installed example>", async () => {
    const example = join(installed, "examples/plasmite.yaml");
    const r = await monitor(["config", "check", "--config", example]);
    assert.equal(r.code, 0, tail(r));
    assert.match(r.stdout, new RegExp(`^ok: ${example.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    assert.match(r.stdout, /plasmite \(sandover\/plasmite\): github, crates, npm, pypi, homebrew/);
  });

  it("monitor config schema", async () => {
    const r = await monitor(["config", "schema"]);
    assert.equal(r.code, 0, tail(r));
    const schema = JSON.parse(r.stdout) as { $schema: string; properties: Record<string, unknown> };
    assert.match(schema.$schema, /2020-12/);
    assert.ok("projects" in schema.properties);
  });

  it("monitor verify --sim clean (the sim ships inside the bundle)", async () => {
    const r = await monitor([
      "verify",
      "v0.8.0",
      "--config",
      join(installed, "examples/plasmite.yaml"),
      "--sim",
      "clean",
      "--json",
    ]);
    assert.equal(r.code, 0, tail(r));
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, "ok");
  });

  it("reports its step durations", () => {
    // Visible with --test-reporter=spec; the pack includes the TypeScript build.
    process.stdout.write(`# npm-pack timings (ms): ${JSON.stringify(timings)}\n`);
    assert.ok(timings["npm pack"]! > 0);
  });
});
