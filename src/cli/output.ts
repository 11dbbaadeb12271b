import type { Report } from "../report/types.ts";
import type { Status } from "../drift/types.ts";
import { worstStatus } from "../drift/types.ts";
import { ExitCode } from "../exit-codes.ts";

/** Exit code for a set of verdicts: 0 all ok, 1 any drift, 3 unknown (nothing drifted), 4 only pending. */
export function exitCodeFor(reports: readonly Report[]): ExitCode {
  const status: Status = worstStatus(reports.map((r) => r.status));
  switch (status) {
    case "ok":
    case "skipped":
      return ExitCode.ok;
    case "drift":
      return ExitCode.drift;
    case "unknown":
      return ExitCode.unknown;
    case "pending":
      return ExitCode.pending;
  }
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env["NO_COLOR"] !== undefined && process.env["NO_COLOR"] !== "") return false;
  if (process.env["FORCE_COLOR"] && process.env["FORCE_COLOR"] !== "0") return true;
  return Boolean(stream.isTTY);
}
