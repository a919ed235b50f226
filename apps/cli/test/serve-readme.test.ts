import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tooling/test-data';
import { type ServeProcess, startServe } from './serve-process';

// The curl commands of the README's "Server" section, run as written (only the address changed) against a
// real `imgcls serve` on loopback.

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const DOCUMENTED_URL = 'http://127.0.0.1:8080';

interface Example {
  /** The comment lines above it. */
  readonly comment: string;
  readonly command: string;
}

/** The curl lines between the server-curl markers, each with the comment lines above it. */
function curlExamples(text: string): Example[] {
  const block = /<!-- server-curl:start[^>]*-->\n([\s\S]*?)<!-- server-curl:end -->/.exec(
    text,
  )?.[1];
  if (!block) throw new Error('README.md has no <!-- server-curl:start … --> block');
  const examples: Example[] = [];
  let comment = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('#')) comment = `${comment}${line.slice(1).trim()} `;
    else if (line.startsWith('curl ')) examples.push({ comment: comment.trim(), command: line });
  }
  return examples;
}

interface Ran {
  readonly status: number;
  readonly body: string;
}

/** Runs one README line through the shell in `cwd`, pointed at `url`, with its status code captured. */
function runCurl(command: string, url: string, cwd: string, index: number): Promise<Ran> {
  const bodyFile = `answer-${index}.out`;
  const line = `${command.replaceAll(DOCUMENTED_URL, url)} -o ${bodyFile} -w '%{http_code}'`;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${line} exited ${code}: ${stderr}`));
      else resolve({ status: Number(stdout), body: readFileSync(join(cwd, bodyFile), 'utf8') });
    });
  });
}

const examples = curlExamples(README);

interface Prediction {
  readonly label: string;
  readonly index: number;
  readonly probability: number;
}

function expectOutcome(outcome: unknown, input: string, topK: number): void {
  expect(outcome).toMatchObject({ input });
  const { predictions } = outcome as { predictions: Prediction[] };
  expect(predictions).toHaveLength(topK);
  for (const prediction of predictions) {
    expect(typeof prediction.label).toBe('string');
    expect(Number.isInteger(prediction.index)).toBe(true);
    expect(prediction.probability).toBeGreaterThanOrEqual(0);
    expect(prediction.probability).toBeLessThanOrEqual(1);
  }
  const probabilities = predictions.map((prediction) => prediction.probability);
  expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
}

/** What each documented route answers, checked by its shape. */
function checkAnswer(command: string, answer: Ran): void {
  const url = new URL(/'?(http:\/\/\S+?)'?(\s|$)/.exec(command)?.[1] ?? '');
  const json = () => JSON.parse(answer.body);
  if (url.pathname === '/metrics') {
    expect(answer.body).toContain('# TYPE imgcls_http_requests_total counter');
    expect(answer.body).toMatch(/^imgcls_batch_size_bucket\{/m);
  } else if (url.pathname === '/openapi.json') {
    expect(json().openapi).toMatch(/^3\./);
    expect(Object.keys(json().paths)).toEqual(
      expect.arrayContaining(['/v1/models/{id}/classify', '/v1/models/{id}/embed', '/v1/models']),
    );
  } else if (url.pathname === '/healthz') expect(json()).toEqual({ status: 'ok' });
  else if (url.pathname === '/readyz') expect(json()).toEqual({ status: 'ready' });
  else if (url.pathname === '/v1/models') {
    const [model] = json().models;
    expect(model).toMatchObject({ id: 'cifar10', version: expect.any(String) });
    expect(model.labels).toHaveLength(10);
    expect(Object.keys(model.checksums).length).toBeGreaterThan(0);
  } else if (url.pathname.endsWith('/embed')) {
    const { input, dimensions, embedding } = json();
    expect(input).toBe('body');
    expect(embedding).toHaveLength(dimensions);
  } else if (url.pathname.endsWith('/classify')) {
    const topK = Number(url.searchParams.get('topK') ?? 5);
    if (command.includes(' -F ')) {
      const { outcomes } = json();
      expect(outcomes).toHaveLength(2);
      expectOutcome(outcomes[0], 'photo.jpg', topK);
      expectOutcome(outcomes[1], 'other.png', topK);
    } else {
      expectOutcome(json(), 'body', topK);
      if (url.searchParams.get('explain') === 'gradcam') {
        const { explanation } = json();
        expect(explanation).toMatchObject({
          layer: expect.any(String),
          prediction: json().predictions[0],
        });
        const png = Buffer.from(explanation.overlayPng, 'base64');
        expect(png.subarray(1, 4).toString()).toBe('PNG');
      }
    }
  } else throw new Error(`no check for ${command}`);
}

describe('README "Server" curl examples', () => {
  let server: ServeProcess;
  let workspace: string;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-readme-curl-'));
    const photo = sharp({
      create: { width: 120, height: 90, channels: 3, background: { r: 200, g: 60, b: 40 } },
    });
    writeFileSync(join(workspace, 'photo.jpg'), await photo.clone().jpeg().toBuffer());
    writeFileSync(
      join(workspace, 'other.png'),
      await photo.clone().flop().tint('#2040c0').png().toBuffer(),
    );
    // As the section starts it, on a free port instead of 8080.
    server = await startServe(['--model', 'cifar10'], { cwd: workspace });
  });
  afterAll(() => server?.kill());

  it('documents every route: classify (body, multipart, topK, Grad-CAM), embed, models, health, metrics, OpenAPI', () => {
    const text = examples.map((example) => `${example.command} `).join('\n');
    for (const part of [
      '/classify',
      ' -F ',
      'topK=',
      'explain=gradcam',
      '/embed',
      '/v1/models ',
      '/healthz',
      '/readyz',
      '/metrics',
      '/openapi.json',
    ])
      expect(text).toContain(part);
  });

  it.each(examples.map((example, index) => [example.command, example, index] as const))(
    '%s',
    async (_command, example, index) => {
      const answer = await runCurl(example.command, server.url, workspace, index);
      // A comment naming an error status ("here 415 …") expects that problem; anything else 200.
      const error = /here (\d{3}) ([A-Z_]+)/.exec(example.comment);
      if (error) {
        expect(answer.status).toBe(Number(error[1]));
        expect(JSON.parse(answer.body)).toMatchObject({ status: Number(error[1]), code: error[2] });
        return;
      }
      expect(answer.status, answer.body).toBe(200);
      checkAnswer(example.command, answer);
    },
  );
});
