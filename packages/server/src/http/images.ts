import type { MultipartFile } from '@fastify/multipart';
import { InvalidImageError } from '@imgcls/preprocess';
import type { FastifyRequest } from 'fastify';
import type { ImageFetcher } from './fetch-image';
import { HttpProblemError } from './problem';

/** An image a request carries, with the name its outcome reports as `input`. */
export interface NamedImage {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The images of a request, and whether it was multipart (answered with one outcome per file). */
export interface RequestImages {
  readonly multipart: boolean;
  readonly images: readonly NamedImage[];
}

/** What reading a request's images may use. */
export interface ReadImagesOptions {
  readonly bodyLimit: number;
  /** Undefined when URL fetching is off. */
  readonly fetchImage: ImageFetcher | undefined;
  readonly signal: AbortSignal;
}

/** The `input` of a raw image body, which has no name of its own. */
export const BODY_INPUT = 'body';

const MAX_NAME_LENGTH = 256;

function bodyTooLarge(bodyLimit: number): HttpProblemError {
  return new HttpProblemError(
    'BODY_TOO_LARGE',
    413,
    `The request body is larger than the ${bodyLimit.toLocaleString('en-US')}-byte limit (bodyLimit).`,
  );
}

/** Reads every file of a multipart body, keeping the total under bodyLimit while streaming. */
async function readMultipart(request: FastifyRequest, bodyLimit: number): Promise<NamedImage[]> {
  const images: NamedImage[] = [];
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    const file = part as MultipartFile;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of file.file as AsyncIterable<Buffer>) {
      size += chunk.length;
      total += chunk.length;
      if (total > bodyLimit) throw bodyTooLarge(bodyLimit);
      chunks.push(chunk);
    }
    if (file.file.truncated) throw bodyTooLarge(bodyLimit);
    const name = (file.filename || file.fieldname || `file${images.length + 1}`).slice(
      0,
      MAX_NAME_LENGTH,
    );
    images.push({ name, bytes: Buffer.concat(chunks, size) });
  }
  if (images.length === 0)
    throw new HttpProblemError(
      'NO_IMAGE',
      400,
      'The multipart body holds no file: send each image as a file part (curl -F image=@cat.jpg).',
    );
  return images;
}

/**
 * The images of a classify or embed request: a raw `image/*` (or `application/octet-stream`) body,
 * the files of a multipart body, or the image behind `{ "url": … }`.
 */
export async function readImages(
  request: FastifyRequest,
  options: ReadImagesOptions,
): Promise<RequestImages> {
  if (request.isMultipart()) {
    return { multipart: true, images: await readMultipart(request, options.bodyLimit) };
  }
  const body = request.body;
  if (Buffer.isBuffer(body))
    return { multipart: false, images: [{ name: BODY_INPUT, bytes: body }] };
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { url?: unknown }).url === 'string'
  ) {
    const url = (body as { url: string }).url;
    if (options.fetchImage === undefined)
      throw new HttpProblemError(
        'URL_FETCH_DISABLED',
        403,
        'This server does not fetch URLs (start it with fetchUrls.allowHosts to allow some hosts); send the image itself.',
      );
    const bytes = await options.fetchImage(url, options.signal);
    return { multipart: false, images: [{ name: url, bytes }] };
  }
  throw new HttpProblemError(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    'Send the image as the body (Content-Type: image/*), as multipart/form-data files, or as JSON { "url": "…" }.',
  );
}

/** Refuses an empty image before it takes a place in the queue. */
export function checkNotEmpty(image: NamedImage): void {
  if (image.bytes.length === 0)
    throw new InvalidImageError('EMPTY', `${image.name} is empty (0 bytes): send the image file.`);
}
