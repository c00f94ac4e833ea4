/**
 * A scripted browser for HTTP-level tests: a cookie jar (tough-cookie, so Path scoping is real)
 * and fetch with redirects followed by hand, so a test can see every hop and stop at the
 * relying party's redirect URI.
 */
import { CookieJar } from 'tough-cookie';

export interface Hop {
  url: string;
  status: number;
  location?: string;
  body: string;
  headers: Headers;
}

export class Browser {
  readonly jar = new CookieJar();

  async request(url: string, init: RequestInit = {}): Promise<Hop> {
    const cookie = await this.jar.getCookieString(url);
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, url, { ignoreError: true });
    }
    const location = response.headers.get('location') ?? undefined;
    return {
      url,
      status: response.status,
      location: location ? new URL(location, url).href : undefined,
      body: await response.text(),
      headers: response.headers,
    };
  }

  get(url: string): Promise<Hop> {
    return this.request(url);
  }

  post(url: string, form: Record<string, string>): Promise<Hop> {
    return this.request(url, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /**
   * Follows redirects from `url` until a response is not a redirect or its target starts with
   * `stopAt`; returns every hop.
   */
  async follow(url: string, stopAt?: string, limit = 10): Promise<Hop[]> {
    const hops: Hop[] = [];
    let next: string | undefined = url;
    while (next && hops.length < limit) {
      const hop = await this.get(next);
      hops.push(hop);
      if (hop.status < 300 || hop.status >= 400 || !hop.location) break;
      if (stopAt && hop.location.startsWith(stopAt)) break;
      next = hop.location;
    }
    return hops;
  }
}

export function last<T>(items: T[]): T {
  const item = items.at(-1);
  if (item === undefined) throw new Error('empty list');
  return item;
}
