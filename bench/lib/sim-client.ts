/** Spawns bench/sim-server.ts as a separate process and talks to its control API. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { SimServerOptions, SimServerReady, SimStatsSnapshot } from "./sim-protocol.ts";

export const BENCH_DIR = join(import.meta.dirname, "..");
export const REPO_ROOT = join(BENCH_DIR, "..");

export interface SimHandle {
  ready: SimServerReady;
  stats(): Promise<SimStatsSnapshot>;
  reset(): Promise<void>;
  setLatency(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSimServer(options: SimServerOptions): Promise<SimHandle> {
  const child: ChildProcess = spawn(process.execPath, [join(BENCH_DIR, "sim-server.ts"), JSON.stringify(options)], {
    // stdin stays open: the sim-server exits when it closes (when this process ends, however it ends).
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<SimServerReady>((resolve, reject) => {
    lines.once("line", (line) => {
      try {
        resolve(JSON.parse(line) as SimServerReady);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    void exited.then((code) => reject(new Error(`sim-server exited early (code ${code})`)));
  });
  const call = async (method: "GET" | "POST", path: string): Promise<unknown> => {
    const res = await fetch(`${ready.control}${path}`, { method });
    if (!res.ok) throw new Error(`sim control ${method} ${path}: HTTP ${res.status}`);
    return res.json();
  };
  let closing: Promise<void> | null = null;
  return {
    ready,
    stats: async () => (await call("GET", "/stats")) as SimStatsSnapshot,
    reset: async () => void (await call("POST", "/reset")),
    setLatency: async (ms) => void (await call("POST", `/latency?ms=${ms}`)),
    close() {
      closing ??= (async () => {
        try {
          await call("POST", "/close");
        } catch {
          child.kill("SIGTERM");
        }
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
