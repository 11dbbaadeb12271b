import { jsonReporter } from "./json.ts";
import { markdownReporter } from "./markdown.ts";
import { textReporter } from "./text.ts";
import type { Reporter } from "./types.ts";

/** Output formats by id: a new format means one module plus one line here. */
export const REPORTERS: Record<Reporter["id"], Reporter> = {
  text: textReporter,
  json: jsonReporter,
  markdown: markdownReporter,
};
