import { configJsonSchema } from "./schema.ts";

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  required?: string[];
  minimum?: number;
  maximum?: number;
  "x-max-duration"?: string;
};

/**
 * Renders the configuration reference (a Markdown table per section) from the JSON Schema generated from the zod
 * schema. README.md embeds it between markers; test/config/reference.test.ts keeps the two in sync and
 * `node scripts/gen-config-reference.ts` rewrites it.
 */
export function renderConfigReference(): string {
  const rows: string[] = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"];
  walk(configJsonSchema(), "", rows);
  return rows.join("\n");
}

function walk(schema: JsonSchema, path: string, rows: string[]): void {
  const s = unwrap(schema);
  if (s.properties) {
    for (const [key, child] of Object.entries(s.properties)) {
      const p = path ? `${path}.${key}` : key;
      const c = unwrap(child);
      const required = s.required?.includes(key) && child.default === undefined;
      rows.push(
        `| \`${p}\` | ${typeOf(child)} | ${defaultOf(child)} | ${cell(child.description ?? c.description ?? "")}${required ? " **Required.**" : ""} |`,
      );
      if (c.properties) walk(c, p, rows);
      else if (c.type === "array" && c.items) {
        const item = c.items;
        if (item.oneOf || item.anyOf) {
          for (const variant of item.oneOf ?? item.anyOf ?? []) {
            const tag = variant.properties?.["type"]?.const;
            walk(variant, `${p}[]${typeof tag === "string" ? `(type: ${tag})` : ""}`, rows);
          }
        } else if (unwrap(item).properties) walk(item, `${p}[]`, rows);
      } else if (typeof c.additionalProperties === "object" && unwrap(c.additionalProperties).properties) {
        walk(c.additionalProperties, `${p}.<key>`, rows);
      }
    }
  }
}

function unwrap(s: JsonSchema): JsonSchema {
  const nonNull = (s.anyOf ?? []).filter((x) => x.type !== "null");
  const only = nonNull[0];
  if (s.anyOf && nonNull.length === 1 && only) {
    const description = s.description ?? only.description;
    return description === undefined ? only : { ...only, description };
  }
  return s;
}

function typeOf(s: JsonSchema): string {
  const u = unwrap(s);
  const nullable = (s.anyOf ?? []).some((x) => x.type === "null");
  let t: string;
  if (u.const !== undefined) t = `\`${JSON.stringify(u.const)}\``;
  else if (u.enum) t = u.enum.map((e) => `\`${JSON.stringify(e)}\``).join(" \\| ");
  else if (u.type === "array") t = `list of ${u.items ? typeOf(u.items) : "any"}`;
  else if (u.type === "object" && typeof u.additionalProperties === "object" && !u.properties)
    t = `map of ${typeOf(u.additionalProperties)}`;
  else if (u.pattern === "^(0|([0-9]+(ms|s|m|h|d))+)$")
    t = u["x-max-duration"] ? `duration ≤ ${u["x-max-duration"]}` : "duration";
  else if (u.oneOf || u.anyOf) t = "one of";
  else t = Array.isArray(u.type) ? u.type.join(" \\| ") : (u.type ?? "any");
  return nullable ? `${t} or null` : t;
}

function defaultOf(s: JsonSchema): string {
  if (s.default === undefined) return "";
  if (typeof s.default === "object" && s.default !== null && !Array.isArray(s.default)) return "";
  return `\`${cell(JSON.stringify(s.default))}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
