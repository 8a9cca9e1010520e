/**
 * The value of one cookie in a Cookie header, or null when it is absent. Lenient where browsers
 * and other sites on the domain are sloppy: a cookie whose name or value is not valid
 * percent-encoding is skipped instead of failing the request (a stray cookie must not break
 * every signed-in call), and `;` without a space separates too. The first cookie of the name
 * wins: browsers send the one with the longest path first.
 */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) {
    return null;
  }
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals < 0) {
      continue;
    }
    const key = decodeOrNull(pair.slice(0, equals).trim());
    if (key !== name) {
      continue;
    }
    const value = decodeOrNull(unquote(pair.slice(equals + 1).trim()));
    if (value !== null) {
      return value;
    }
  }
  return null;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

function decodeOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
