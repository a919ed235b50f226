import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { HttpProblemError } from './problem';

/** How {@link createImageFetcher} may fetch. */
export interface ImageFetchPolicy {
  readonly allowHosts: readonly string[];
  readonly allowPrivate: boolean;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly maxRedirects: number;
}

/** Fetches an image URL's bytes under a policy; rejects with an {@link HttpProblemError}. */
export type ImageFetcher = (url: string, signal?: AbortSignal) => Promise<Uint8Array>;

/**
 * Addresses no URL fetch may reach unless `allowPrivate`: "this network", loopback, private,
 * shared (CGNAT), link-local, benchmarking, multicast and reserved IPv4; unspecified, loopback,
 * unique-local, link-local, multicast and NAT64 local-use IPv6. IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`) are checked as the IPv4 address they map (BlockList does that).
 */
export const NON_PUBLIC_ADDRESSES: BlockList = (() => {
  const list = new BlockList();
  const v4: [string, number][] = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  for (const [network, prefix] of v4) list.addSubnet(network, prefix, 'ipv4');
  const v6: [string, number][] = [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b:1::', 48],
  ];
  for (const [network, prefix] of v6) list.addSubnet(network, prefix, 'ipv6');
  return list;
})();

/** True when an IP address is loopback, link-local, private, unique-local or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC_ADDRESSES.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when `host` (lower case, IPv6 without brackets) matches an `allowHosts` entry. */
export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  return allowHosts.some((pattern) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern,
  );
}

function refused(detail: string): HttpProblemError {
  return new HttpProblemError('URL_NOT_ALLOWED', 403, detail);
}

/** Marks a refusal raised inside the DNS lookup, where only an Error can travel. */
class RefusedAddressError extends Error {}

/**
 * A DNS lookup that refuses non-public addresses. It runs when the socket connects, so the address
 * checked is the address used (a second resolution cannot swap in 127.0.0.1).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const blocked = addresses.find((entry) => isNonPublicAddress(entry.address));
      if (!allowPrivate && blocked)
        return callback(
          new RefusedAddressError(
            `${hostname} resolves to ${blocked.address}, a loopback, link-local or private address; fetching it is not allowed (fetchUrls.allowPrivate).`,
          ),
          '',
          0,
        );
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** One GET, resolving with the response head (the body still to read). */
function get(url: URL, lookup: LookupFunction, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(
      url,
      // agent: false, a connection of its own: a pooled keep-alive socket would skip the guarded lookup.
      {
        agent: false,
        lookup,
        signal,
        headers: { accept: 'image/*', 'user-agent': 'imgcls-server' },
      },
      resolve,
    );
    request.on('error', reject);
  });
}

async function readCapped(
  response: IncomingMessage,
  url: string,
  maxBytes: number,
): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpProblemError(
      'DOWNLOAD_TOO_LARGE',
      422,
      `${url} is larger than the ${maxBytes.toLocaleString('en-US')}-byte download limit (fetchUrls.maxBytes).`,
    );
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/**
 * Makes the fetcher of `{ "url": … }` requests: http(s) only, hosts from `allowHosts` only (redirects
 * included), non-public addresses refused at connection time unless `allowPrivate`, at most
 * `maxBytes` read (Content-Length first, then while streaming), `timeoutMs` for the whole download.
 */
export function createImageFetcher(policy: ImageFetchPolicy): ImageFetcher {
  const lookup = guardedLookup(policy.allowPrivate);
  return async (requested, clientSignal) => {
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = clientSignal ? AbortSignal.any([timeout, clientSignal]) : timeout;
    let url: URL;
    try {
      url = new URL(requested);
    } catch {
      throw new HttpProblemError('INVALID_REQUEST', 400, `"${requested}" is not a URL.`);
    }
    for (let redirects = 0; ; redirects++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw refused(`Only http and https URLs can be fetched, not ${url.protocol}`);
      if (url.username || url.password)
        throw refused('URLs with credentials (user:password@) are not fetched.');
      const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
      if (!hostAllowed(host, policy.allowHosts))
        throw refused(
          `${host} is not among the hosts images may be fetched from (fetchUrls.allowHosts).`,
        );
      // An IP literal is connected to without a lookup, so it is checked here.
      if (isIP(host) !== 0 && !policy.allowPrivate && isNonPublicAddress(host))
        throw refused(
          `${host} is a loopback, link-local or private address; fetching it is not allowed (fetchUrls.allowPrivate).`,
        );

      let response: IncomingMessage;
      try {
        response = await get(url, lookup, signal);
      } catch (error) {
        if (error instanceof RefusedAddressError) throw refused(error.message);
        if (timeout.aborted)
          throw new HttpProblemError(
            'DOWNLOAD_TIMEOUT',
            504,
            `${url.href} did not answer within ${policy.timeoutMs} ms (fetchUrls.timeoutMs).`,
          );
        throw new HttpProblemError(
          'DOWNLOAD_FAILED',
          502,
          `Cannot fetch ${url.href}: ${(error as Error).message}`,
        );
      }
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects >= policy.maxRedirects)
          throw new HttpProblemError(
            'DOWNLOAD_FAILED',
            502,
            `${requested} redirects more than ${policy.maxRedirects} times (fetchUrls.maxRedirects).`,
          );
        url = new URL(location, url);
        continue;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw new HttpProblemError('DOWNLOAD_FAILED', 502, `${url.href} answered HTTP ${status}.`);
      }
      try {
        return await readCapped(response, url.href, policy.maxBytes);
      } catch (error) {
        if (error instanceof HttpProblemError) throw error;
        if (timeout.aborted)
          throw new HttpProblemError(
            'DOWNLOAD_TIMEOUT',
            504,
            `${url.href} did not finish within ${policy.timeoutMs} ms (fetchUrls.timeoutMs).`,
          );
        throw new HttpProblemError(
          'DOWNLOAD_FAILED',
          502,
          `Cannot read ${url.href}: ${(error as Error).message}`,
        );
      }
    }
  };
}
