/**
 * NOPASS_CALLBACK_ALLOW: the addresses the NoPass server calls from. The vendor's sample trusts
 * callbacks from anywhere; with this set, any other caller is turned away before its body is
 * read. An empty list allows every source (the quickstart, and deployments that rely on a secret
 * NOPASS_CALLBACK_PREFIX or on a proxy instead). The address checked is Koa's `ctx.ip`: the
 * forwarded client address when TRUST_PROXY is on, the connection's otherwise.
 */
import { BlockList, isIP } from 'node:net';
import { SettingsError } from '../settings/index.ts';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/**
 * A check of a caller's address against CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`) and single
 * addresses. Throws `SettingsError` naming NOPASS_CALLBACK_ALLOW for an entry that is neither.
 */
export function createSourceCheck(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => true;

  const allowed = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const type = family(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = type === 'ipv4' ? 32 : 128;
    const validBits = bits === undefined || (/^\d+$/.test(prefix ?? '') && bits <= maxBits);
    if (type === undefined || extra !== undefined || !validBits) {
      throw new SettingsError(
        'NOPASS_CALLBACK_ALLOW',
        `"${entry}" is not an IP address or CIDR range such as 10.0.0.0/8`,
      );
    }
    if (bits === undefined) allowed.addAddress(address, type);
    else allowed.addSubnet(address, bits, type);
  }

  return (address) => {
    // A dual-stack listener reports IPv4 callers as ::ffff:a.b.c.d.
    const plain = MAPPED_IPV4.exec(address)?.[1] ?? address;
    const type = family(plain);
    return type !== undefined && allowed.check(plain, type);
  };
}
