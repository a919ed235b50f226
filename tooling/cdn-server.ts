import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** How the server misbehaves for one file: the failures a CDN or mirror really shows. */
export type Fault = 'corrupt' | 'truncate' | 'html' | 'missing';

/** A loopback stand-in for an npm CDN: package folders served under jsDelivr's `/npm/<name>@<version>/<file>` layout. */
export interface CdnServer {
  /** Origin to give as `remoteHost`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Requests answered so far, by path. */
  readonly requests: string[];
  /** Makes `file` of every package misbehave from now on (undefined: behave again). */
  fault(file: string, fault: Fault | undefined): void;
  close(): Promise<void>;
}

/**
 * Serves package folders (`{ '@imgcls/model-x@0.1.0': '/path/to/folder' }`) on 127.0.0.1 as an npm
 * CDN does, with CORS open so pages on other origins can fetch, and faults to inject per file.
 */
export async function startCdnServer(
  packages: Readonly<Record<string, string>>,
): Promise<CdnServer> {
  const faults = new Map<string, Fault>();
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(path);
    response.setHeader('access-control-allow-origin', '*');
    response.setHeader('cross-origin-resource-policy', 'cross-origin');
    const match = /^\/npm\/(@[^/]+\/[^/@]+@[^/]+|[^/@]+@[^/]+)\/(.+)$/.exec(path);
    const folder = match ? packages[match[1] as string] : undefined;
    const file = match?.[2] as string;
    const fault = faults.get(file);
    let body: Buffer;
    try {
      if (!folder || fault === 'missing') throw new Error('not found');
      body = readFileSync(join(folder, file));
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    if (fault === 'html') {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><html><body>Service unavailable</body></html>');
      return;
    }
    if (fault === 'corrupt')
      body = Buffer.from(body.map((byte, index) => (index === 7 ? byte ^ 0xff : byte)));
    if (fault === 'truncate') body = body.subarray(0, Math.floor(body.length / 2));
    if (request.method === 'HEAD') {
      response.writeHead(200, { 'content-length': String(body.length) }).end();
      return;
    }
    response.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fault: (file, fault) => {
      if (fault) faults.set(file, fault);
      else faults.delete(file);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
