import { formatDuration } from "../config/duration.ts";
import type { StepStatus } from "./types.ts";

/**
 * Human progress of a release run, on stderr (stdout carries the summary or --json). On a TTY: the step list up
 * front, one live status line with a spinner and the step's elapsed time, and a result line per step. Otherwise
 * plain lines (each distinct status once), fit for CI logs.
 */
export interface Progress {
  begin(header: string, steps: readonly { name: string; title: string }[]): void;
  stepStart(index: number, name: string, title: string): void;
  /** Transient state of the running step ("waiting for run 123: in_progress, 3/6 jobs"). */
  status(text: string): void;
  /** A permanent line (a would-do action, a gate result). */
  line(text: string): void;
  stepEnd(name: string, status: StepStatus, detail: string, durationMs: number): void;
  end(): void;
}

/** One-character mark per step status, shared by the live progress and the final summary. */
export const MARK: Record<StepStatus, string> = {
  pending: "·",
  running: "▸",
  done: "✔",
  ok: "✔",
  planned: "○",
  skipped: "–",
  failed: "✘",
  unknown: "?",
  interrupted: "⏸",
};

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface ProgressStream {
  write(text: string): unknown;
}

export function createProgress(out: ProgressStream, tty: boolean): Progress {
  return tty ? new TtyProgress(out) : new PlainProgress(out);
}

class PlainProgress implements Progress {
  readonly #out: ProgressStream;
  #total = 0;
  #index = 0;
  #name = "";
  #last = "";

  constructor(out: ProgressStream) {
    this.#out = out;
  }

  begin(header: string, steps: readonly { name: string; title: string }[]): void {
    this.#total = steps.length;
    this.#out.write(`${header}\nsteps: ${steps.map((s) => s.name).join(" → ")}\n`);
  }

  stepStart(index: number, name: string, title: string): void {
    this.#index = index;
    this.#name = name;
    this.#last = "";
    this.#out.write(`[${index + 1}/${this.#total}] ${name}: ${title}\n`);
  }

  status(text: string): void {
    if (text === this.#last) return;
    this.#last = text;
    this.#out.write(`      ${this.#name}: ${text}\n`);
  }

  line(text: string): void {
    this.#out.write(`      ${text}\n`);
  }

  stepEnd(name: string, status: StepStatus, detail: string, durationMs: number): void {
    this.#out.write(
      `[${this.#index + 1}/${this.#total}] ${name}: ${status} (${formatDuration(durationMs)}) ${detail}\n`,
    );
  }

  end(): void {}
}

class TtyProgress implements Progress {
  readonly #out: ProgressStream;
  #total = 0;
  #index = 0;
  #name = "";
  #status = "";
  #started = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(out: ProgressStream) {
    this.#out = out;
  }

  begin(header: string, steps: readonly { name: string; title: string }[]): void {
    this.#total = steps.length;
    this.#out.write(`${header}\n`);
    for (const [i, s] of steps.entries())
      this.#out.write(`  ${MARK.pending} ${String(i + 1).padStart(2)}. ${s.name.padEnd(13)} ${s.title}\n`);
  }

  stepStart(index: number, name: string, title: string): void {
    this.#index = index;
    this.#name = name;
    this.#status = title;
    this.#started = Date.now();
    this.#timer ??= setInterval(() => this.#draw(), 120);
    this.#timer.unref();
    this.#draw();
  }

  status(text: string): void {
    this.#status = text;
    this.#draw();
  }

  line(text: string): void {
    this.#clear();
    this.#out.write(`      ${text}\n`);
    this.#draw();
  }

  stepEnd(name: string, status: StepStatus, detail: string, durationMs: number): void {
    this.#clear();
    this.#name = "";
    this.#out.write(
      `  ${MARK[status]} ${String(this.#index + 1).padStart(2)}/${this.#total} ${name.padEnd(13)} ${status} · ${formatDuration(durationMs)} · ${detail}\n`,
    );
  }

  end(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#clear();
  }

  #clear(): void {
    this.#out.write("\r\x1b[2K");
  }

  #draw(): void {
    if (this.#name === "") return;
    this.#frame = (this.#frame + 1) % SPINNER.length;
    const elapsed = formatDuration(Date.now() - this.#started);
    const cols = Number((process.stderr as { columns?: number }).columns ?? 100);
    const text = `  ${SPINNER[this.#frame] ?? ""} ${String(this.#index + 1).padStart(2)}/${this.#total} ${this.#name.padEnd(13)} ${elapsed.padStart(6)} · ${this.#status}`;
    this.#out.write(`\r\x1b[2K${text.slice(0, Math.max(20, cols - 1))}`);
  }
}
