import type { ChannelInit } from "../channel.ts";

/** `monitor init` for npm: a package.json's name unless `"private": true` (scoped names kept as written). */
export const npmInit: ChannelInit = {
  manifests: [
    {
      file: "package.json",
      format: "json",
      read(doc) {
        const name = doc["name"];
        return { names: doc["private"] === true || typeof name !== "string" ? [] : [name] };
      },
    },
  ],
  // A formula is named after the package without its scope.
  projectNames: (names) => names.map((n) => n.replace(/^@[^/]+\//, "")),
  block: ({ kept }) => ({ block: kept ? { package: kept.name } : null, notes: [] }),
};
