import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions } from 'vite';

const ENTRY = fileURLToPath(new URL('./library-page/entry.ts', import.meta.url));
const WASM_DIR = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

/** A static loopback server over a map of URL prefixes to folders, counting requests per path. */
export interface StaticServer {
  readonly url: string;
  /** Requests served so far, by path. */
  readonly requests: string[];
  /** While false, every request fails with 503 (the host is "down"). */
  online: boolean;
  close(): Promise<void>;
}

/** Serves files from folders (`{ '/models/': '/tmp/x' }`) plus fixed in-memory files. */
export function serveStatic(
  folders: Readonly<Record<string, string>>,
  files: Readonly<Record<string, { body: Buffer | string; type: string }>> = {},
): Promise<StaticServer> {
  const state = { online: true, requests: [] as string[] };
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    state.requests.push(path);
    // Cross-origin fetches from the page need CORS, as a model host such as Google Storage sends.
    response.setHeader('access-control-allow-origin', '*');
    if (!state.online) return void response.writeHead(503).end('offline');
    const fixed = files[path];
    if (fixed) return void response.writeHead(200, { 'content-type': fixed.type }).end(fixed.body);
    for (const [prefix, folder] of Object.entries(folders)) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(folder, path.slice(prefix.length)));
      if (!file.startsWith(folder) || !existsSync(file)) break;
      return void response
        .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
        .end(readFileSync(file));
    }
    response.writeHead(404).end('not found');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests: state.requests,
        get online() {
          return state.online;
        },
        set online(value: boolean) {
          state.online = value;
        },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    }),
  );
}

/** A page that exposes `globalThis.imgcls` (the classifier library's browser build) and the given files. */
export interface LibraryPage {
  readonly server: StaticServer;
  close(): Promise<void>;
}

/**
 * Bundles `@imgcls/classifier` for browsers from the workspace sources (vite, browser export conditions)
 * and serves it with the TF.js wasm binaries on a loopback port; `files` adds e.g. test photos.
 */
export async function startLibraryPage(
  files: Readonly<Record<string, { body: Buffer | string; type: string }>> = {},
): Promise<LibraryPage> {
  const outDir = mkdtempSync(join(tmpdir(), 'imgcls-library-page-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    resolve: { conditions: ['@imgcls/source', ...defaultClientConditions] },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      lib: { entry: ENTRY, formats: ['es'], fileName: () => 'library.js' },
    },
  });
  const html =
    '<!doctype html><meta charset="utf-8"><script type="module" src="/lib/library.js"></script>';
  const server = await serveStatic(
    { '/lib/': outDir, '/tfjs-wasm/': WASM_DIR },
    { '/': { body: html, type: 'text/html' }, ...files },
  );
  return {
    server,
    close: async () => {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
