import { drift, sha256Hex, type Draft } from "../../drift/findings.ts";
import type { CheckPeers } from "../channel.ts";
import { githubHashClaims } from "../github/hash-claims.ts";
import { github as githubChannel } from "../github/index.ts";
import type { PypiObservation } from "./types.ts";

/**
 * Cross-channel: a file attached to the GitHub release under the same name as a PyPI file must be the same bytes.
 * `sha-mismatch` subjects the file, `expected` GitHub's sha256, `actual` PyPI's. Nothing to say when GitHub was not
 * observed, has no such file, or makes no usable claim about it (its own check reports a missing digest).
 */
export function githubCopyFindings(obs: PypiObservation, peers: CheckPeers, tag: string): Draft[] {
  const view = peers.view(githubChannel);
  if (view.state !== "observed" || !obs.release) return [];
  const gh = view.observation;
  const out: Draft[] = [];
  for (const file of obs.release.files) {
    const pypi = sha256Hex(file.sha256);
    const claim = githubHashClaims(gh, file.filename)[0];
    if (!pypi || !claim || claim.value === pypi) continue;
    out.push(
      drift(
        "sha-mismatch",
        `${file.filename}: the copy on GitHub release ${tag} (${claim.source}) is ${claim.value} but PyPI's is ${pypi}`,
        {
          subject: file.filename,
          expected: `GitHub release ${tag} (${claim.source}): ${claim.value}`,
          actual: `PyPI digests.sha256: ${pypi}`,
        },
      ),
    );
  }
  return out;
}
