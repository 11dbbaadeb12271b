/**
 * A real, throwaway PostgreSQL cluster for tests: Debian's server binaries, `initdb` in a temp dir, `pg_ctl`
 * on a loopback port, trust authentication on loopback only. initdb refuses to run as root, so as uid 0 the
 * binaries run through `runuser -u postgres` and the cluster directory is handed to that user.
 * No mock, no in-process fake.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/<db>` for a fresh database. */
  readonly url: string;
  readonly port: number;
  /** Creates another empty database and returns its URL. */
  createDatabase(name: string): string;
  /** Stops the server (`pg_ctl stop -m fast`: sessions are ended), keeping the cluster for restart(). */
  pause(): void;
  /** Starts the paused server again on the same port. */
  restart(): void;
  stop(): void;
}

/** The server binaries' folder: `pg_config --bindir` when it points at a server, else /usr/lib/postgresql/<n>/bin. */
export function postgresBinDir(): string | null {
  const fromConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  if (fromConfig.status === 0) {
    const dir = fromConfig.stdout.trim();
    if (existsSync(path.join(dir, "initdb")) && existsSync(path.join(dir, "postgres"))) return dir;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = path.join(root, v, "bin");
    if (existsSync(path.join(dir, "initdb"))) return dir;
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = userInfo().uid === 0;

/** runuser lives in /usr/sbin or /sbin, which a minimal CI PATH may not list. */
function runuserPath(): string {
  for (const dir of ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    const p = path.join(dir, "runuser");
    if (existsSync(p)) return p;
  }
  return "runuser";
}

function run(bin: string, args: string[]): string {
  const [cmd, argv] = asRoot ? [runuserPath(), ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Starts a cluster; throws when the server binaries are missing (CI installs them: scripts/dev). */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === null) throw new Error("PostgreSQL server binaries not found (install Debian's postgresql package)");
  const base = mkdtempSync(path.join(tmpdir(), "rm-pg-"));
  const data = path.join(base, "data");
  const sock = base;
  if (asRoot) {
    chmodSync(base, 0o755);
    const pgUid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const pgGid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(base, pgUid, pgGid);
  }
  run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c fsync=off -c max_connections=200`;
  let down = false;
  const start = (): void => {
    down = false;
    run(path.join(bin, "pg_ctl"), ["-D", data, "-o", opts, "-l", path.join(base, "log"), "-w", "-t", "60", "start"]);
  };
  const pause = (): void => {
    run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
    down = true;
  };
  start();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      if (!down) run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
  process.once("exit", stop);
  const urlFor = (db: string): string => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const createDatabase = (name: string): string => {
    run(path.join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name]);
    return urlFor(name);
  };
  return { url: createDatabase("monitor"), port, createDatabase, pause, restart: start, stop };
}
