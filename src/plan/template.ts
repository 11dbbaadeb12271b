/** `{name}` placeholders from `vars`; an unknown one stays as written (the config loader rejects those). */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (m, key: string) => vars[key] ?? m);
}
