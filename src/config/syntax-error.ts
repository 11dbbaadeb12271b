import { SECRET_NAME, SecretRegistry } from "../secrets.ts";

/**
 * A config syntax error shows the offending source lines, and it happens before any value is known to be a secret.
 * This removes from the error's text the values of secret-looking keys (`token: …`, `"webhook_url": "…"`, block
 * or flow style), the values of env vars the file references (`${VAR}`) and credentials inside URLs, keeping the
 * position and the key names.
 */

/** `key: value` / `"key": "value"`, with the key's name in group 2 and the value in group 4. */
const KEY_VALUE = /(["']?)([A-Za-z0-9_.-]+)\1(\s*:[ \t]*)("[^"\n]*"?|'[^'\n]*'?|[^\s,{}[\]#][^,{}[\]#\n]*)/g;

export function redactSyntaxError(
  message: string,
  text: string,
  env: NodeJS.ProcessEnv,
  secrets: SecretRegistry,
): string {
  const found = new SecretRegistry();
  for (const m of text.matchAll(KEY_VALUE)) {
    if (SECRET_NAME.test(m[2] ?? "")) found.add(unquote(m[4] ?? ""));
  }
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) found.add(env[m[1] ?? ""]);
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi)) found.addUrlCredentials(m[0]);
  const keysCut = message.replace(KEY_VALUE, (all, q: string, key: string, sep: string) =>
    SECRET_NAME.test(key) ? `${q}${key}${q}${sep}[REDACTED]` : all,
  );
  return secrets.redact(found.redact(keysCut));
}

function unquote(value: string): string {
  return value.trim().replace(/^["']|["']$/g, "");
}
