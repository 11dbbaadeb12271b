import type { Report } from "../../src/report/types.ts";

/** What a report decides (status, each channel's status and findings, provenance), without times and evidence. */
export function verdict(r: Report): unknown {
  return {
    status: r.status,
    channels: r.channels.map((c) => ({ channel: c.channel, status: c.status, findings: c.findings })),
    provenance: r.provenance,
  };
}
