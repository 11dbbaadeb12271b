import type { ChannelId } from "../channels.ts";
import { cratesProbe } from "./crates/index.ts";
import { githubProbe } from "./github/index.ts";
import { homebrewProbe } from "./homebrew/index.ts";
import { npmProbe } from "./npm/index.ts";
import { pypiProbe } from "./pypi/index.ts";
import type { ObservationOf, Probe } from "./types.ts";

/** One line per channel. A new channel is one folder under probes/ plus one line here. */
export const PROBES: { readonly [C in ChannelId]: Probe<ObservationOf<C>> } = {
  github: githubProbe,
  crates: cratesProbe,
  npm: npmProbe,
  pypi: pypiProbe,
  homebrew: homebrewProbe,
};
