/**
 * Structural checks of deploy/: the Kubernetes manifests, the compose file, the systemd unit, the GitHub Actions
 * workflow and the container config agree with each other, with the Dockerfile and with the code (server port,
 * config schema, CLI flags). No Kubernetes schema package is installed, so these are the checks that matter here:
 * kinds and apiVersions, names, selectors, ports, probes, volumes, secrets and security settings.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import cron from "node-cron";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { parseDuration } from "../../src/config/duration.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { ServerConfig } from "../../src/config/schema.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { applyScenario } from "../../src/sim/scenarios.ts";
import { REPO_ROOT, runCli, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { healthcheckCommand, parseDockerfile } from "./dockerfile.ts";

/** Parsed YAML, navigated structurally: the assertions are the schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const read = (p: string) => readFileSync(join(REPO_ROOT, p), "utf8");
const pkg = JSON.parse(read("package.json")) as { version: string };
const IMAGE = `release-monitor:${pkg.version}`;
const SERVER_PORT = Number(ServerConfig.parse({}).listen.split(":").at(-1));

const dockerfile = parseDockerfile(read("Dockerfile"));
const finalStage = dockerfile.stages.at(-1)!;
const dfEnv = new Map(
  finalStage.instructions
    .filter((i) => i.keyword === "ENV")
    .flatMap((i) => [...i.args.matchAll(/([A-Za-z_]\w*)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const)),
);
const dfUid = Number(finalStage.instructions.findLast((i) => i.keyword === "USER")!.args.split(":")[0]);
const dfVolume = finalStage.instructions.find((i) => i.keyword === "VOLUME")!.exec![0]!;
const dfHealthcheck = healthcheckCommand(finalStage.instructions.find((i) => i.keyword === "HEALTHCHECK")!).exec!;
const MONITOR_CONFIG = dfEnv.get("MONITOR_CONFIG")!;

const CONFIG_TEXT = read("deploy/config/monitor.yaml");
const configDoc = parseYaml(CONFIG_TEXT) as Obj;
const STATE_DIR = configDoc["settings"].state_dir as string;

/** watch: --drain-timeout (10 s) for cycles, as long again for alerts, then a 2 s exit grace. */
const STOP_NEEDS_S = 10 + 10 + 2;

function loadDocs(path: string): Obj[] {
  const docs = parseAllDocuments(read(path));
  return docs.map((d, i) => {
    assert.deepEqual(d.errors, [], `${path} document ${i}: ${d.errors.map((e) => e.message).join("; ")}`);
    assert.deepEqual(d.warnings, [], `${path} document ${i}`);
    const v = d.toJS() as Obj | null;
    assert.ok(v && typeof v === "object", `${path} document ${i} is empty`);
    return v;
  });
}

/** ${VAR} references without a default in the config's values: the variables it cannot load without. */
function requiredEnv(configText: string): string[] {
  const strings = (v: unknown): string[] =>
    typeof v === "string" ? [v] : v && typeof v === "object" ? Object.values(v).flatMap(strings) : [];
  return strings(parseYaml(configText)).flatMap((s) => [...s.matchAll(/\$\{([A-Za-z_]\w*)\}/g)].map((m) => m[1]!));
}

const API_VERSIONS: Record<string, string> = {
  ConfigMap: "v1",
  Secret: "v1",
  PersistentVolumeClaim: "v1",
  Service: "v1",
  Deployment: "apps/v1",
  CronJob: "batch/v1",
};
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const K8S_DIR = "deploy/kubernetes";

describe("kubernetes manifests", () => {
  const files = readdirSync(join(REPO_ROOT, K8S_DIR)).filter((f) => /\.ya?ml$/.test(f));
  const all = files.flatMap((f) => loadDocs(`${K8S_DIR}/${f}`).map((doc) => ({ file: f, doc })));
  const byKind = (kind: string) => all.filter((x) => x.doc["kind"] === kind).map((x) => x.doc);
  const one = (kind: string): Obj => {
    const list = byKind(kind);
    assert.equal(list.length, 1, `expected one ${kind}`);
    return list[0]!;
  };
  const configMap = () => one("ConfigMap");
  const secret = () => one("Secret");
  const deployment = () => one("Deployment");
  const cronJob = () => one("CronJob");
  const podOf = (kind: "Deployment" | "CronJob") =>
    (kind === "Deployment" ? deployment()["spec"].template : cronJob()["spec"].jobTemplate.spec.template) as Obj;

  it("every document has a known kind, its apiVersion and a DNS-1123 name", () => {
    assert.deepEqual(files.sort(), ["release-monitor.yaml", "verify-cronjob.yaml"]);
    assert.deepEqual(all.map((x) => String(x.doc["kind"])).sort(), [
      "ConfigMap",
      "CronJob",
      "Deployment",
      "PersistentVolumeClaim",
      "Secret",
      "Service",
    ]);
    for (const { file, doc } of all) {
      const kind = doc["kind"] as string;
      assert.equal(doc["apiVersion"], API_VERSIONS[kind], `${file}: ${kind} apiVersion`);
      assert.match(doc["metadata"]?.name ?? "", DNS1123, `${file}: ${kind} metadata.name`);
      assert.equal(doc["metadata"].labels?.["app.kubernetes.io/name"], "release-monitor", `${file}: ${kind} labels`);
      assert.equal(doc["metadata"].namespace, undefined, `${file}: ${kind} hard-codes a namespace`);
    }
  });

  it("the ConfigMap carries deploy/config/monitor.yaml, which loads with the Secret's variables", () => {
    const embedded = configMap()["data"]["monitor.yaml"] as string;
    assert.deepEqual(parseYaml(embedded), configDoc, "ConfigMap monitor.yaml differs from deploy/config/monitor.yaml");
    assert.deepEqual(requiredEnv(embedded).sort(), ["MONITOR_SERVER_TOKEN", "SLACK_WEBHOOK_URL"]);
    const keys = Object.keys(secret()["stringData"] as Obj);
    for (const v of requiredEnv(embedded)) assert.ok(keys.includes(v), `config needs \${${v}}, the Secret lacks it`);
    const env = Object.fromEntries(keys.map((k) => [k, k.endsWith("_URL") ? "https://hooks.example.test/x" : "t0ken"]));
    const loaded = loadConfigText(embedded, MONITOR_CONFIG, dirname(MONITOR_CONFIG), { env });
    assert.equal(loaded.config.settings.state_dir, STATE_DIR);
    assert.equal(Number(loaded.config.settings.server.listen.split(":").at(-1)), SERVER_PORT);
    assert.equal(loaded.githubToken, "t0ken");
    assert.ok(STATE_DIR.startsWith("/"), "state_dir must be absolute: /config is a read-only ConfigMap mount");
    assert.equal(STATE_DIR, dfVolume, "state_dir is the image's VOLUME");
  });

  it("the Secret holds placeholders only, and the keys the workloads need", () => {
    const s = secret();
    assert.equal(s["type"], "Opaque");
    assert.equal(s["data"], undefined, "use stringData placeholders, never encoded values");
    const data = s["stringData"] as Record<string, string>;
    for (const k of ["GITHUB_TOKEN", "SLACK_WEBHOOK_URL", "MONITOR_SERVER_TOKEN"]) assert.ok(k in data, k);
    for (const [k, v] of Object.entries(data)) assert.equal(v, "REPLACE_ME", `${k} must be a placeholder`);
  });

  it("the Deployment: one replica, Recreate, selector matching the pod labels", () => {
    const d = deployment()["spec"] as Obj;
    assert.equal(d["replicas"], 1);
    assert.equal(d["strategy"].type, "Recreate", "a second pod must never open the sqlite db during a rollout");
    const labels = d["template"].metadata.labels as Obj;
    for (const [k, v] of Object.entries(d["selector"].matchLabels as Obj)) assert.equal(labels[k], v, `selector ${k}`);
  });

  for (const kind of ["Deployment", "CronJob"] as const) {
    it(`${kind}: image, config, secrets, security context and resources`, () => {
      const pod = podOf(kind)["spec"] as Obj;
      assert.equal(pod["containers"].length, 1);
      const c = pod["containers"][0] as Obj;
      assert.equal(c["image"], IMAGE, "image tag follows package.json version");
      const env = new Map((c["env"] as Obj[]).map((e) => [e["name"] as string, e["value"] as string]));
      assert.equal(env.get("MONITOR_CONFIG"), MONITOR_CONFIG);
      assert.deepEqual(c["envFrom"], [{ secretRef: { name: secret()["metadata"].name } }]);
      // Every $(VAR) in args is defined in env.
      for (const a of c["args"] as string[]) {
        for (const m of a.matchAll(/\$\(([A-Za-z_]\w*)\)/g))
          assert.ok(env.has(m[1]!), `args use $(${m[1]}) but env lacks it`);
      }

      const volumes = new Map((pod["volumes"] as Obj[]).map((v) => [v["name"] as string, v]));
      const mounts = new Map((c["volumeMounts"] as Obj[]).map((m) => [m["mountPath"] as string, m]));
      for (const m of mounts.values()) assert.ok(volumes.has(m["name"]), `mount ${m["name"]} has no volume`);
      const cfgMount = mounts.get(dirname(MONITOR_CONFIG));
      assert.ok(cfgMount, `config mounted at ${dirname(MONITOR_CONFIG)}`);
      assert.equal(cfgMount["readOnly"], true);
      assert.equal(volumes.get(cfgMount["name"])?.["configMap"]?.name, configMap()["metadata"].name);
      assert.ok(basename(MONITOR_CONFIG) in configMap()["data"]);
      assert.equal(volumes.get(mounts.get("/tmp")?.["name"])?.["emptyDir"] !== undefined, true, "writable /tmp");

      const podSec = pod["securityContext"] as Obj;
      assert.equal(podSec["runAsNonRoot"], true);
      assert.equal(podSec["runAsUser"], dfUid, "runAsUser matches the image's USER");
      assert.equal(podSec["seccompProfile"].type, "RuntimeDefault");
      const sec = c["securityContext"] as Obj;
      assert.equal(sec["readOnlyRootFilesystem"], true);
      assert.equal(sec["allowPrivilegeEscalation"], false);
      assert.deepEqual(sec["capabilities"].drop, ["ALL"]);
      assert.equal(pod["automountServiceAccountToken"], false);

      for (const k of ["requests", "limits"]) {
        assert.ok(c["resources"][k].cpu, `${k}.cpu`);
        assert.ok(c["resources"][k].memory, `${k}.memory`);
      }
    });
  }

  it("the Deployment mounts the PVC at the state dir and probes /healthz and /readyz on the server port", () => {
    const pod = podOf("Deployment")["spec"] as Obj;
    const c = pod["containers"][0] as Obj;
    assert.deepEqual(c["args"], ["watch"]);
    const state = (c["volumeMounts"] as Obj[]).find((m) => m["mountPath"] === STATE_DIR);
    assert.ok(state, `state volume mounted at ${STATE_DIR}`);
    assert.notEqual(state["readOnly"], true);
    const vol = (pod["volumes"] as Obj[]).find((v) => v["name"] === state["name"])!;
    assert.equal(vol["persistentVolumeClaim"].claimName, one("PersistentVolumeClaim")["metadata"].name);
    assert.deepEqual(one("PersistentVolumeClaim")["spec"].accessModes, ["ReadWriteOnce"]);
    assert.equal(pod["securityContext"].fsGroup, dfUid, "fsGroup makes the PVC writable for the image's user");

    const ports = c["ports"] as Obj[];
    assert.deepEqual(ports, [{ name: "http", containerPort: SERVER_PORT }]);
    const portOf = (p: number | string) =>
      typeof p === "number" ? p : ports.find((x) => x["name"] === p)?.["containerPort"];
    for (const probe of ["startupProbe", "livenessProbe"]) {
      assert.equal(c[probe].httpGet.path, "/healthz", probe);
      assert.equal(portOf(c[probe].httpGet.port), SERVER_PORT, `${probe} port`);
    }
    // /readyz needs the token, which only an exec probe can read (from the Secret, via envFrom).
    const ready = c["readinessProbe"].exec.command as string[];
    assert.deepEqual(ready.slice(0, 2), ["node", "-e"]);
    assert.ok(ready[2]!.includes(`'http://127.0.0.1:${SERVER_PORT}/readyz'`), ready[2]);
    assert.ok(ready[2]!.includes("'Bearer ' + process.env.MONITOR_SERVER_TOKEN"), ready[2]);
    assert.ok("MONITOR_SERVER_TOKEN" in secret()["stringData"]);
    assert.ok(pod["terminationGracePeriodSeconds"] >= STOP_NEEDS_S, "grace covers the drain on SIGTERM");
  });

  it("the Service selects the watch pods only and targets the server port", () => {
    const svc = one("Service")["spec"] as Obj;
    const watchLabels = podOf("Deployment")["metadata"].labels as Obj;
    const verifyLabels = podOf("CronJob")["metadata"].labels as Obj;
    const selects = (labels: Obj) => Object.entries(svc["selector"] as Obj).every(([k, v]) => labels[k] === v);
    assert.ok(selects(watchLabels));
    assert.ok(!selects(verifyLabels), "the Service would also route to CronJob pods");
    const ports = podOf("Deployment")["spec"].containers[0].ports as Obj[];
    for (const p of svc["ports"] as Obj[]) {
      const target =
        typeof p["targetPort"] === "number"
          ? p["targetPort"]
          : ports.find((x) => x["name"] === p["targetPort"])?.["containerPort"];
      assert.equal(target, SERVER_PORT);
    }
  });

  it("the CronJob runs a verify on a valid schedule, one at a time, failing on a bad verdict", () => {
    const cj = cronJob()["spec"] as Obj;
    assert.ok(cron.validate(cj["schedule"]), `schedule "${cj["schedule"]}"`);
    assert.equal(String(cj["schedule"]).split(/\s+/).length, 5, "Kubernetes schedules have five fields");
    assert.equal(cj["concurrencyPolicy"], "Forbid");
    assert.equal(cj["jobTemplate"].spec.backoffLimit, 0);
    const pod = podOf("CronJob")["spec"] as Obj;
    assert.equal(pod["restartPolicy"], "Never");
    const c = pod["containers"][0] as Obj;
    assert.equal(c["args"][0], "verify");
    const tag = (c["env"] as Obj[]).find((e) => e["name"] === "RELEASE_TAG")?.["value"] as string;
    assert.match(tag, /^v\d+\.\d+\.\d+$/);
    assert.ok(!(c["volumeMounts"] as Obj[]).some((m) => m["mountPath"] === STATE_DIR), "verify keeps no state");
  });
});

describe("compose.yaml", () => {
  const compose = loadDocs("deploy/compose.yaml");
  const svc = () => compose[0]!["services"]["release-monitor"] as Obj;
  const composeDir = join(REPO_ROOT, "deploy");

  it("builds this repo's Dockerfile and tags the package version", () => {
    assert.equal(compose.length, 1);
    const build = svc()["build"] as Obj;
    assert.equal(resolve(composeDir, build["context"]), REPO_ROOT);
    assert.ok(existsSync(join(resolve(composeDir, build["context"]), build["dockerfile"])));
    assert.equal(svc()["image"], IMAGE);
  });

  it("runs watch with an init, the config file, the state volume and loopback-only ports", () => {
    const s = svc();
    assert.equal(s["init"], true);
    assert.deepEqual(s["command"], ["watch"]);
    assert.equal(s["environment"].MONITOR_CONFIG, MONITOR_CONFIG);
    const vols = (s["volumes"] as string[]).map((v) => v.split(":"));
    const cfg = vols.find(([, target]) => target === MONITOR_CONFIG);
    assert.ok(cfg, "config file mounted at MONITOR_CONFIG");
    assert.equal(cfg[2], "ro");
    assert.ok(existsSync(resolve(composeDir, cfg[0]!)), `${cfg[0]} exists`);
    assert.equal(readFileSync(resolve(composeDir, cfg[0]!), "utf8"), CONFIG_TEXT);
    const state = vols.find(([, target]) => target === STATE_DIR);
    assert.ok(state, `named volume at ${STATE_DIR}`);
    assert.ok(state[0]! in (compose[0]!["volumes"] as Obj), `volume ${state[0]} declared`);
    assert.deepEqual(s["ports"], [`127.0.0.1:${SERVER_PORT}:${SERVER_PORT}`]);
    assert.equal(s["read_only"], true);
    assert.deepEqual(s["cap_drop"], ["ALL"]);
    assert.ok((parseDuration(s["stop_grace_period"]) ?? 0) >= STOP_NEEDS_S * 1000);
  });

  it("reads secrets from an env_file shaped like deploy/monitor.env.example, and checks health like the image", () => {
    const s = svc();
    assert.deepEqual(s["env_file"], ["monitor.env"]);
    const example = read("deploy/monitor.env.example");
    const keys = [...example.matchAll(/^([A-Z_][A-Z0-9_]*)=(.*)$/gm)].map((m) => {
      assert.equal(m[2], "", `${m[1]} must be empty in the example`);
      return m[1]!;
    });
    for (const v of requiredEnv(CONFIG_TEXT)) assert.ok(keys.includes(v), `env example lacks ${v}`);
    assert.ok(keys.includes("GITHUB_TOKEN"));
    assert.deepEqual(s["healthcheck"].test, ["CMD", ...dfHealthcheck]);
  });
});

describe("systemd unit", () => {
  const UNIT = "deploy/systemd/release-monitor.service";
  const unit = parseUnit(read(UNIT));
  const get = (section: string, key: string) => unit.get(section)?.get(key) ?? [];
  const one = (section: string, key: string) => {
    const v = get(section, key);
    assert.equal(v.length, 1, `[${section}] ${key}: expected one value, got ${JSON.stringify(v)}`);
    return v[0]!;
  };

  it("has the sections and the service keys that matter", () => {
    assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
    assert.equal(one("Service", "Type"), "simple");
    assert.equal(one("Service", "Restart"), "on-failure");
    assert.equal(one("Service", "RestartPreventExitStatus"), "2");
    assert.ok(one("Service", "DynamicUser") === "yes" || !["", "root", "0"].includes(one("Service", "User")));
    assert.equal(one("Service", "StateDirectory"), "release-monitor");
    assert.equal(`/var/lib/${one("Service", "StateDirectory")}`, STATE_DIR, "the same config works under systemd");
    assert.equal(one("Service", "ProtectSystem"), "strict");
    assert.equal(one("Service", "NoNewPrivileges"), "yes");
    assert.equal(one("Service", "PrivateTmp"), "yes");
    assert.equal(one("Service", "ProtectHome"), "yes");
    assert.notEqual(get("Service", "MemoryDenyWriteExecute")[0], "yes", "V8's JIT needs W+X memory");
    assert.ok((parseDuration(one("Service", "TimeoutStopSec")) ?? 0) >= STOP_NEEDS_S * 1000);
    assert.equal(one("Install", "WantedBy"), "multi-user.target");
  });

  it("starts watch with the config in its ConfigurationDirectory and secrets from an EnvironmentFile", () => {
    const exec = one("Service", "ExecStart").split(/\s+/);
    assert.ok(exec[0]!.startsWith("/") && exec[0]!.endsWith("/monitor"), exec[0]);
    assert.equal(exec[1], "watch");
    const config = exec[exec.indexOf("--config") + 1]!;
    assert.equal(posix.dirname(config), `/etc/${one("Service", "ConfigurationDirectory")}`);
    const envFile = one("Service", "EnvironmentFile");
    assert.ok(envFile.startsWith("/etc/") && !envFile.startsWith("-"), "a missing secrets file must fail the start");
  });

  it("passes systemd-analyze verify and scores well in systemd-analyze security", (t) => {
    if (spawnSync("systemd-analyze", ["--version"]).status !== 0) {
      t.skip("systemd-analyze is not installed");
      return;
    }
    // An offline root holding the system's units, the unit and an executable standing in for the installed CLI.
    const root = tempDir("rm-systemd-");
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const exec = one("Service", "ExecStart").split(/\s+/)[0]!;
    mkdirSync(join(root, dirname(exec)), { recursive: true });
    writeFileSync(join(root, exec), "#!/bin/sh\n");
    chmodSync(join(root, exec), 0o755);
    mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
    if (existsSync("/usr/lib/systemd/system"))
      cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
    writeFileSync(join(root, "etc/systemd/system/release-monitor.service"), read(UNIT));
    const v = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "release-monitor.service"], {
      encoding: "utf8",
    });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr.trim(), "", "systemd-analyze reports problems");
    // Exposure 0 (locked down) .. 10 (unsafe); --threshold is in tenths.
    const sec = spawnSync("systemd-analyze", ["security", "--offline=true", "--threshold=25", join(REPO_ROOT, UNIT)], {
      encoding: "utf8",
    });
    assert.equal(sec.status, 0, `exposure above 2.5:\n${sec.stdout.split("\n").slice(-3).join("\n")}`);
  });
});

describe("GitHub Actions workflow", () => {
  const wf = loadDocs("deploy/github-actions/verify-release.yml")[0]!;
  const steps = () => wf["jobs"].verify.steps as Obj[];
  const verifyStep = () => {
    const s = steps().find((x) => typeof x["run"] === "string" && /\bmonitor verify\b/.test(x["run"]));
    assert.ok(s, "no step runs monitor verify");
    return s;
  };
  let sim: Sim;
  before(async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean");
  });
  after(() => sim.close());

  it("runs on release, read-only", () => {
    assert.deepEqual(wf["on"], { release: { types: ["published"] } });
    assert.deepEqual(wf["permissions"], { contents: "read", actions: "read" });
    assert.ok(wf["jobs"].verify["timeout-minutes"] > 30, "the job outlives --wait 30m");
  });

  it("installs the packed tarball globally", () => {
    const install = steps().find((x) => typeof x["run"] === "string" && /npm install -g/.test(x["run"]));
    assert.ok(install);
    assert.match(install["run"], /npm pack --pack-destination "\$RUNNER_TEMP"/);
    assert.match(install["run"], /npm install -g "\$RUNNER_TEMP"\/release-monitor-\*\.tgz/);
  });

  it("verifies the release tag with --wait and --markdown into the job summary, gated on the exit code", () => {
    const s = verifyStep();
    assert.equal(s["env"].RELEASE_TAG, "${{ github.event.release.tag_name }}");
    assert.equal(s["env"].GITHUB_TOKEN, "${{ secrets.GITHUB_TOKEN }}");
    assert.ok(!String(s["run"]).includes("${{"), "expressions go through env, never into the script");
    assert.match(s["run"], /^monitor verify "\$RELEASE_TAG" .*--wait 30m .*--markdown >> "\$GITHUB_STEP_SUMMARY"$/);
    assert.equal(s["continue-on-error"], undefined);
    assert.doesNotMatch(s["run"], /\|\||; *true|set \+e/);
  });

  it("its verify command line works with the real CLI (clean release: exit 0, Markdown out)", async () => {
    const line = String(verifyStep()["run"]).replace(/\s*>>\s*"\$GITHUB_STEP_SUMMARY"$/, "");
    const args = line
      .split(/\s+/)
      .slice(1)
      .map((a) => (a === '"$RELEASE_TAG"' ? "v0.8.0" : a));
    const cfgAt = args.indexOf("--config");
    assert.ok(cfgAt > 0);
    args[cfgAt + 1] = writeConfig(tempDir(), simConfigYaml(sim));
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plasmite/);
    assert.match(r.stdout, /^\|.*\|$/m, "Markdown table");
  });
});

describe("docs/deploy.md", () => {
  it("covers every deploy file and the token scopes", () => {
    const doc = read("docs/deploy.md");
    const walk = (d: string): string[] =>
      readdirSync(join(REPO_ROOT, d), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(`${d}/${e.name}`) : [`${d}/${e.name}`],
      );
    for (const f of [...walk("deploy"), "Dockerfile"])
      assert.ok(doc.includes(f), `docs/deploy.md does not mention ${f}`);
    for (const s of ["contents:read", "actions:read", "contents:write", "actions:write", "secrets"]) {
      assert.ok(doc.toLowerCase().includes(s), `token scope ${s}`);
    }
  });
});

/** systemd unit files: [Section] headers, Key=Value lines (repeatable), # and ; comments, `\` continuations. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | null = null;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const h = /^\[([A-Za-z]+)\]$/.exec(line);
    if (h) {
      assert.ok(!out.has(h[1]!), `duplicate section [${h[1]}]`);
      section = new Map();
      out.set(h[1]!, section);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv && section, `unit line ${i + 1} is not Key=Value inside a section: ${line}`);
    section.set(kv[1]!, [...(section.get(kv[1]!) ?? []), kv[2]!.trim()]);
  }
  return out;
}
