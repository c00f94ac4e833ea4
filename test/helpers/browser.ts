/**
 * A scripted browser for HTTP-level tests: a cookie jar (tough-cookie, so Path scoping is real)
 * and fetch with redirects followed by hand, so a test can see every hop and stop at the
 * relying party's redirect URI. Like a person's browser, it sends a form's hidden anti-forgery
 * token (`_csrf`) with the form: `post` adds the one the newest page showing a form with that
 * action carried, unless the caller gives one; `forge` sends exactly what it is given, as a
 * page of another site would.
 */
import { CookieJar } from 'tough-cookie';

export interface Hop {
  url: string;
  status: number;
  location?: string;
  body: string;
  headers: Headers;
}

/** The `_csrf` of each POST form on an HTML page, by the path of the form's action. */
function formTokens(page: string, url: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const [, attributes = '', inside = ''] of page.matchAll(/<form\b([^>]*)>(.*?)<\/form>/gs)) {
    const action = /\baction="([^"]*)"/.exec(attributes)?.[1];
    const token = /<input[^>]*\bname="_csrf"[^>]*\bvalue="([^"]*)"/.exec(inside)?.[1];
    if (action === undefined || token === undefined) continue;
    tokens.set(new URL(action.replaceAll('&amp;', '&'), url).pathname, token);
  }
  return tokens;
}

export class Browser {
  readonly jar = new CookieJar();
  /** The anti-forgery token of each form action seen, the newest page's winning. */
  readonly csrfTokens = new Map<string, string>();

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
    return this.remember({
      url,
      status: response.status,
      location: location ? new URL(location, url).href : undefined,
      body: await response.text(),
      headers: response.headers,
    });
  }

  /** Keeps the anti-forgery tokens of the forms on `hop`'s page, if it is one; returns `hop`. */
  protected remember(hop: Hop): Hop {
    if (hop.headers.get('content-type')?.startsWith('text/html')) {
      for (const [action, token] of formTokens(hop.body, hop.url)) {
        this.csrfTokens.set(action, token);
      }
    }
    return hop;
  }

  get(url: string): Promise<Hop> {
    return this.request(url);
  }

  /** The anti-forgery token of the newest form seen whose action is `url`. */
  tokenFor(url: string): string | undefined {
    return this.csrfTokens.get(new URL(url).pathname);
  }

  /** Sends a form as the page that showed it would: with its `_csrf` unless `form` has one. */
  post(url: string, form: Record<string, string>): Promise<Hop> {
    const token = this.tokenFor(url);
    return this.forge(
      url,
      token === undefined || '_csrf' in form ? form : { ...form, _csrf: token },
    );
  }

  /** Sends exactly `form`, with this browser's cookies: what a page of another site can do. */
  forge(url: string, form: Record<string, string>): Promise<Hop> {
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
