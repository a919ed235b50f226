import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createServerWithEngine } from '../src/http/server';
import type { HttpServerOptions } from '../src/options';
import { FakeEngine } from './http-fake-engine';

/** A server on loopback around an engine (a fake one by default), with its base URL. */
export interface Running {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly engine: FakeEngine;
}

export async function startFake(
  options: HttpServerOptions = {},
  engine = new FakeEngine(),
): Promise<Running> {
  const app = await createServerWithEngine(engine, { logger: false, ...options });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, engine };
}

/** A body fetch accepts (Node's Uint8Array typing is wider than BlobPart's). */
export function body(bytes: Uint8Array): BodyInit {
  return bytes as unknown as BodyInit;
}

/** POSTs raw image bytes. */
export function postImage(
  url: string,
  bytes: Uint8Array,
  contentType = 'image/png',
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: body(bytes),
  });
}

/** A multipart body with one file part per entry. */
export function form(
  files: readonly { name: string; bytes: Uint8Array; type?: string }[],
): FormData {
  const data = new FormData();
  for (const file of files)
    data.append(
      'image',
      new Blob([file.bytes as unknown as BlobPart], { type: file.type ?? 'image/png' }),
      file.name,
    );
  return data;
}

/** The problem a response carries, after checking it is a well-formed RFC 9457 problem. */
export async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).toMatchObject({
    type: `urn:imgcls:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    status,
    code,
    instance: response.headers.get('x-request-id'),
  });
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
  // Never a stack trace.
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
  return problem;
}
