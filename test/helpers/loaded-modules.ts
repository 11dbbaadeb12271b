/**
 * Preload (`node --import <this file>`) that records every module the process loads: each resolved URL (files,
 * packages, `node:` built-ins) through a module.registerHooks resolve hook, written one per line to
 * $LOADED_MODULES_FILE at exit. Used to check that a command loads only what it needs.
 */
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const out = process.env["LOADED_MODULES_FILE"];
const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    loaded.add(r.url);
    return r;
  },
});
// CommonJS require() of built-ins (inside bundled or CommonJS packages) does not pass the ESM resolve hook.
/** Built-ins as Node lists them (`process.moduleLoadList`, undocumented but stable: "NativeModule <id>"). */
const seenBuiltins = (): string[] =>
  ((process as unknown as { moduleLoadList: string[] }).moduleLoadList ?? [])
    .filter((m) => m.startsWith("NativeModule "))
    .map((m) => `builtin:${m.slice("NativeModule ".length)}`);
process.on("exit", () => {
  if (out) writeFileSync(out, [...loaded, ...seenBuiltins()].join("\n") + "\n");
});
