/** A browser's cookie handling, just enough for one test client: names and values, no paths. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** Takes the Set-Cookie headers of a response; an empty value or Max-Age=0 deletes. */
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (!value || expired) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
  }

  /** A fetch that sends and keeps this jar's cookies, as a browser would. */
  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", this.header());
    }
    const response = await fetch(input, { ...init, headers, redirect: "manual" });
    this.take(response);
    return response;
  };
}
