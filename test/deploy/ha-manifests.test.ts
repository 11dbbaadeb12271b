/**
 * Structural checks of the HA deploy files: deploy/kubernetes/ha/ (two replicas, a PodDisruptionBudget, the state
 * URL in a Secret, the replica id from the pod name, readiness on /readyz), the compose `ha` profile (a postgres
 * service and two monitors) and deploy/config/monitor-ha.yaml (a config that loads with settings.state.url).
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { loadConfigText } from "../../src/config/load.ts";
import { REPO_ROOT } from "../helpers/cli.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const read = (p: string) => readFileSync(join(REPO_ROOT, p), "utf8");
const HA_CONFIG = "deploy/config/monitor-ha.yaml";
const HA_K8S = "deploy/kubernetes/ha/release-monitor-ha.yaml";

function loadDocs(path: string): Obj[] {
  return parseAllDocuments(read(path), { merge: true }).map((d, i) => {
    assert.deepEqual(d.errors, [], `${path} document ${i}`);
    const v = d.toJS() as Obj | null;
    assert.ok(v && typeof v === "object", `${path} document ${i} is empty`);
    return v;
  });
}

/** `${VAR}` names a config needs (no default), comments left out. */
const requiredEnv = (text: string): string[] =>
  [
    ...new Set([...text.replace(/^\s*#.*$/gm, "").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!)),
  ].sort();

const env = {
  MONITOR_STATE_URL: "postgres://monitor:pa55word-x@db.internal:5432/monitor",
  GITHUB_TOKEN: "t0ken-gh",
  SLACK_WEBHOOK_URL: "https://hooks.example.test/x",
  MONITOR_SERVER_TOKEN: "t0ken-server",
};

describe("deploy/config/monitor-ha.yaml", () => {
  it("loads with settings.state.url from $MONITOR_STATE_URL, which stays a secret", () => {
    const loaded = loadConfigText(read(HA_CONFIG), "/config/monitor.yaml", "/config", { env });
    assert.equal(loaded.config.settings.state.url, env.MONITOR_STATE_URL);
    assert.deepEqual(
      [loaded.config.settings.state.lease_renew, loaded.config.settings.state.lease_ttl],
      ["10s", "30s"],
    );
    assert.equal(loaded.secrets.redact(`state ${env.MONITOR_STATE_URL}`), "state [REDACTED]");
    assert.deepEqual(requiredEnv(read(HA_CONFIG)), ["MONITOR_SERVER_TOKEN", "MONITOR_STATE_URL", "SLACK_WEBHOOK_URL"]);
  });

  it("is the single-daemon config plus settings.state", () => {
    const single = parseYaml(read("deploy/config/monitor.yaml")) as Obj;
    const ha = parseYaml(read(HA_CONFIG)) as Obj;
    const { state, ...rest } = ha["settings"] as Obj;
    assert.ok(state);
    assert.deepEqual({ ...ha, settings: rest }, single);
  });
});

describe("deploy/kubernetes/ha", () => {
  const docs = loadDocs(HA_K8S);
  const one = (kind: string): Obj => {
    const list = docs.filter((d) => d["kind"] === kind);
    assert.equal(list.length, 1, `one ${kind}`);
    return list[0]!;
  };
  const deployment = () => one("Deployment");
  const container = () => deployment()["spec"].template.spec.containers[0] as Obj;
  const podLabels = () => deployment()["spec"].template.metadata.labels as Obj;

  it("holds a ConfigMap, a Secret, a two-replica Deployment, a PodDisruptionBudget and a Service", () => {
    assert.deepEqual(docs.map((d) => `${String(d["apiVersion"])} ${String(d["kind"])}`).sort(), [
      "apps/v1 Deployment",
      "policy/v1 PodDisruptionBudget",
      "v1 ConfigMap",
      "v1 Secret",
      "v1 Service",
    ]);
    assert.equal(deployment()["spec"].replicas, 2);
    assert.deepEqual(deployment()["spec"].selector.matchLabels, podLabels());
    assert.equal(deployment()["spec"].strategy.rollingUpdate.maxUnavailable, 0, "a rollout never drops to no replica");
    assert.equal(
      docs.some((d) => d["kind"] === "PersistentVolumeClaim"),
      false,
      "no shared volume: the state is PostgreSQL",
    );
  });

  it("the PodDisruptionBudget keeps one replica through drains, over the Deployment's pods", () => {
    const pdb = one("PodDisruptionBudget");
    assert.equal(pdb["spec"].minAvailable, 1);
    assert.deepEqual(pdb["spec"].selector.matchLabels, podLabels());
    assert.ok(pdb["spec"].minAvailable < deployment()["spec"].replicas);
    assert.deepEqual(one("Service")["spec"].selector, podLabels());
  });

  it("the database URL comes from the Secret, the replica id from the pod name", () => {
    const c = container();
    const secretName = one("Secret")["metadata"].name as string;
    assert.deepEqual(
      (c["envFrom"] as Obj[]).map((e) => String(e["secretRef"]?.name)),
      [secretName],
    );
    const keys = Object.keys(one("Secret")["stringData"] as Obj).sort();
    assert.ok(keys.includes("MONITOR_STATE_URL"));
    for (const v of requiredEnv(read(HA_CONFIG))) assert.ok(keys.includes(v), `the Secret lacks ${v}`);
    for (const v of Object.values(one("Secret")["stringData"] as Obj)) assert.equal(v, "REPLACE_ME");
    const replicaId = (c["env"] as Obj[]).find((e) => e["name"] === "MONITOR_REPLICA_ID");
    assert.deepEqual(replicaId?.["valueFrom"], { fieldRef: { fieldPath: "metadata.name" } });
    assert.equal(
      (c["env"] as Obj[]).find((e) => e["name"] === "MONITOR_STATE_URL"),
      undefined,
      "not in plain env",
    );
    const urls = [...read(HA_K8S).matchAll(/postgres(?:ql)?:\/\/([^\s"'/@]*)@/g)].map((m) => m[1]);
    assert.deepEqual(urls, ["user:password"], "only the placeholder in a comment, no real credentials in the file");
  });

  it("the ConfigMap carries deploy/config/monitor-ha.yaml", () => {
    assert.deepEqual(parseYaml(one("ConfigMap")["data"]["monitor.yaml"] as string), parseYaml(read(HA_CONFIG)));
    const mount = (container()["volumeMounts"] as Obj[]).find((m) => m["name"] === "config");
    assert.equal(mount?.["mountPath"], "/config");
    const env = (container()["env"] as Obj[]).find((e) => e["name"] === "MONITOR_CONFIG");
    assert.equal(env?.["value"], "/config/monitor.yaml");
  });

  it("is ready on /readyz (lease health), live on /healthz", () => {
    const c = container();
    const readiness = (c["readinessProbe"].exec.command as string[]).join(" ");
    assert.match(readiness, /http:\/\/127\.0\.0\.1:8080\/readyz/);
    assert.match(readiness, /MONITOR_SERVER_TOKEN/);
    assert.equal(c["livenessProbe"].httpGet.path, "/healthz");
    assert.equal(c["securityContext"].readOnlyRootFilesystem, true);
  });
});

describe("deploy/compose.yaml ha profile", () => {
  const compose = loadDocs("deploy/compose.yaml")[0]!;
  const services = compose["services"] as Obj;
  const ha = Object.entries(services).filter(([, s]) =>
    ((s as Obj)["profiles"] as string[] | undefined)?.includes("ha"),
  );

  it("has a postgres service and two monitors, only in the ha profile", () => {
    assert.deepEqual(ha.map(([name]) => name).sort(), ["monitor-a", "monitor-b", "postgres"]);
    assert.equal(services["release-monitor"]["profiles"], undefined, "the single daemon stays the default");
    assert.match(services["postgres"]["image"], /^postgres:\d+/);
    assert.ok("pgdata" in (compose["volumes"] as Obj));
  });

  it("each monitor runs watch on the shared database with its own replica id, config and port", () => {
    const monitors = ["monitor-a", "monitor-b"].map((n) => services[n] as Obj);
    const ids = monitors.map((m) => m["environment"].MONITOR_REPLICA_ID as string);
    assert.deepEqual(ids, ["monitor-a", "monitor-b"]);
    const ports = monitors.map((m) => (m["ports"] as string[])[0]);
    assert.equal(new Set(ports).size, 2, "one loopback port each");
    for (const m of monitors) {
      assert.deepEqual(m["command"], ["watch"]);
      assert.match(
        m["environment"].MONITOR_STATE_URL,
        /^postgres:\/\/monitor:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/monitor$/,
      );
      assert.equal(m["depends_on"].postgres.condition, "service_healthy");
      assert.ok((m["volumes"] as string[]).includes("./config/monitor-ha.yaml:/config/monitor.yaml:ro"));
      assert.ok(!(m["volumes"] as string[]).some((v) => v.startsWith("state:")), "no shared SQLite volume");
      assert.ok((m["ports"] as string[])[0]!.startsWith("127.0.0.1:"));
    }
  });
});
