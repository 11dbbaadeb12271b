/** Drop query string, fragment and credentials from a URL we put in a report. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return url.replace(/[?#].*$/, "");
  }
}
