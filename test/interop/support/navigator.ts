/**
 * The scripted browser, sending what a browser sends when it navigates to a page. Node's fetch
 * always says `Sec-Fetch-Mode: cors`, and some relying parties (mod_auth_openidc among them)
 * rightly answer such a request with 401 instead of starting a sign-in a script could never
 * finish. This one speaks HTTP through node:http with `Sec-Fetch-Mode: navigate`, keeping the
 * cookie jar and the hop-by-hop redirects of the shared helper.
 */
import { request as httpRequest } from 'node:http';
import { Browser, type Hop } from '../../helpers/browser.ts';

const NAVIGATION_HEADERS = {
  accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'user-agent': 'Mozilla/5.0 (interop test)',
};

export class NavigatingBrowser extends Browser {
  override async request(url: string, init: RequestInit = {}): Promise<Hop> {
    const target = new URL(url);
    if (target.protocol !== 'http:') throw new Error(`only http is spoken here: ${url}`);
    const headers = new Headers({ ...NAVIGATION_HEADERS });
    new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.set('cookie', cookie);
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
    const outgoingHeaders: Record<string, string> = {};
    headers.forEach((value, name) => (outgoingHeaders[name] = value));

    const response = await new Promise<{ status: number; headers: Headers; body: string }>(
      (resolve, reject) => {
        const outgoing = httpRequest(
          target,
          { method: init.method ?? 'GET', headers: outgoingHeaders, timeout: 10_000 },
          (incoming) => {
            const chunks: Buffer[] = [];
            incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
            incoming.on('error', reject);
            incoming.on('end', () => {
              const received = new Headers();
              for (const [name, value] of Object.entries(incoming.headers)) {
                for (const one of [value ?? []].flat()) received.append(name, one);
              }
              resolve({
                status: incoming.statusCode ?? 0,
                headers: received,
                body: Buffer.concat(chunks).toString('utf8'),
              });
            });
          },
        );
        outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url}`)));
        outgoing.on('error', reject);
        outgoing.end(body);
      },
    );

    for (const setCookie of response.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, url, { ignoreError: true });
    }
    const location = response.headers.get('location') ?? undefined;
    return this.remember({
      url,
      status: response.status,
      location: location ? new URL(location, url).href : undefined,
      body: response.body,
      headers: response.headers,
    });
  }
}
