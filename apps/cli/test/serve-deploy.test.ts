import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { MODEL_PACKAGES } from '@imgcls/models';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type CdnServer, startCdnServer } from '../../../tooling/cdn-server';
import { REPO_ROOT } from '../../../tooling/test-data';
import { type ServeProcess, startServe } from './serve-process';

// No Docker engine runs on our machines: these tests lint deploy/Dockerfile, run the steps its RUN lines
// name (deploy/docker-steps.sh) in a scratch copy of the repository, serve the result as the image
// would, and check deploy/kubernetes.yaml's probes against that server.

const DOCKERFILE = join(REPO_ROOT, 'deploy/Dockerfile');
const STEPS = join(REPO_ROOT, 'deploy/docker-steps.sh');
const MANIFEST = join(REPO_ROOT, 'deploy/kubernetes.yaml');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the stage (FROM) it belongs to. */
  readonly stage: number;
}

/** The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped. */
function dockerInstructions(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (pending === '' && /^\s*(#|$)/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line.trim()}`);
    pending = '';
  }
  let stage = -1;
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage++;
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

/** The `case` labels of docker-steps.sh: the steps it knows. */
function scriptSteps(text: string): string[] {
  return [...text.matchAll(/^ {2}([a-z]+)\)$/gm)].map((match) => match[1] as string);
}

/** An `ARG NAME="value"` default. */
function argDefault(instructions: Instruction[], name: string, stage: number): string | undefined {
  const arg = instructions.find(
    (entry) =>
      entry.keyword === 'ARG' && entry.stage === stage && entry.args.startsWith(`${name}=`),
  );
  return arg?.args.slice(name.length + 1).replace(/^"(.*)"$/, '$1');
}

const instructions = dockerInstructions(readFileSync(DOCKERFILE, 'utf8'));
const lastStage = Math.max(...instructions.map((entry) => entry.stage));
const final = instructions.filter((entry) => entry.stage === lastStage);
const cmd = JSON.parse(final.find((entry) => entry.keyword === 'CMD')?.args ?? '[]') as string[];
const flagValue = (args: readonly string[], flag: string) => args[args.indexOf(flag) + 1];

describe('deploy/Dockerfile', () => {
  it('builds in a node:20 stage and runs in a slim node:20 stage, every image pinned (no latest)', () => {
    const froms = instructions
      .filter((entry) => entry.keyword === 'FROM')
      .map((entry) => entry.args);
    expect(froms).toHaveLength(2);
    for (const from of froms) {
      const [image = ''] = from.split(/\s+/);
      expect(image, from).toMatch(/^node:20(\.\d+)*-[a-z]+(-slim)?$/);
      expect(image).not.toMatch(/:latest$|:lts|:current/);
    }
    expect(froms[0]).toMatch(/ AS builder$/);
    expect(froms[1]).toMatch(/^node:20[\w.-]*-slim AS runtime$/);
    // The runtime stage takes only the deployed application from the builder, not the sources.
    const copies = final.filter((entry) => entry.keyword === 'COPY').map((entry) => entry.args);
    expect(copies).toEqual([
      '--from=builder /opt/imgcls /opt/imgcls',
      '--from=builder /src/deploy/docker-steps.sh /tmp/docker-steps.sh',
    ]);
  });

  it('runs as a non-root user, with a HEALTHCHECK on /healthz of the port it serves on', () => {
    const users = final.filter((entry) => entry.keyword === 'USER').map((entry) => entry.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // Nothing after USER runs as root again.
    const userIndex = final.findIndex((entry) => entry.keyword === 'USER');
    expect(final.slice(userIndex).some((entry) => entry.keyword === 'RUN')).toBe(false);

    const port = flagValue(cmd, '--port');
    expect(final.find((entry) => entry.keyword === 'EXPOSE')?.args).toBe(port);
    const healthcheck = final.find((entry) => entry.keyword === 'HEALTHCHECK')?.args ?? '';
    expect(healthcheck).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(healthcheck).toMatch(/--start-period=\d+s/);
    expect(cmd.slice(0, 2)).toEqual(['imgcls', 'serve']);
    expect(flagValue(cmd, '--host')).toBe('0.0.0.0');
    expect(cmd).toContain('--offline');
  });

  it('runs only steps of deploy/docker-steps.sh, in order, and bakes in the models it serves', () => {
    const known = scriptSteps(readFileSync(STEPS, 'utf8'));
    expect(known).toEqual(['install', 'build', 'deploy', 'models', 'link']);
    const runs = instructions.filter((entry) => entry.keyword === 'RUN');
    const named = runs.map((entry) => {
      const match =
        /^sh (?:deploy\/|\/tmp\/)docker-steps\.sh ([a-z]+)( && rm \/tmp\/docker-steps\.sh)?$/.exec(
          entry.args,
        );
      expect(match, `RUN ${entry.args} is not a step of deploy/docker-steps.sh`).not.toBeNull();
      return { step: match?.[1], stage: entry.stage };
    });
    expect(named).toEqual([
      { step: 'install', stage: 0 },
      { step: 'build', stage: 0 },
      { step: 'deploy', stage: 0 },
      { step: 'models', stage: 0 },
      { step: 'link', stage: 1 },
    ]);
    const baked = (argDefault(instructions, 'IMGCLS_MODELS', 0) ?? '').split(/\s+/);
    const served = cmd.flatMap((arg, index) => (cmd[index - 1] === '--model' ? [arg] : []));
    expect(served.length).toBeGreaterThan(0);
    for (const model of served) expect(baked).toContain(model);
  });

  it('has a .dockerignore that keeps host builds and dependencies out of the context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['.git', '**/node_modules', '**/dist', '**/.turbo'])
      expect(ignored).toContain(pattern);
  });
});

interface K8sObject {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Record<string, unknown>;
}

interface Container {
  readonly image: string;
  readonly command: string[];
  readonly args: string[];
  readonly ports: { name: string; containerPort: number }[];
  readonly readinessProbe: { httpGet: { path: string; port: string | number } };
  readonly livenessProbe: { httpGet: { path: string; port: string | number } };
  readonly startupProbe?: { httpGet: { path: string; port: string | number } };
  readonly resources: { requests: Record<string, string>; limits: Record<string, string> };
  readonly lifecycle?: { preStop?: { exec?: { command: string[] } } };
}

const manifest = parseAllDocuments(readFileSync(MANIFEST, 'utf8'));
const objects = (Array.isArray(manifest) ? manifest : [manifest]).map((document) => {
  expect(document.errors).toEqual([]);
  return document.toJS() as K8sObject;
});
const deployment = objects.find((object) => object.kind === 'Deployment');
const podSpec = (deployment?.spec.template as { spec: Record<string, unknown> } | undefined)?.spec;
const container = (podSpec?.containers as Container[] | undefined)?.[0];
const containerLine = container ? [...container.command, ...container.args] : [];
const containerPort = (port: string | number) =>
  typeof port === 'number'
    ? port
    : container?.ports.find((entry) => entry.name === port)?.containerPort;

describe('deploy/kubernetes.yaml', () => {
  it('parses into a Deployment and a Service whose selector and target port match its pods', () => {
    expect(objects.map((object) => object.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'Service']),
    );
    expect(container).toBeDefined();
    const service = objects.find((object) => object.kind === 'Service');
    if (!deployment || !service)
      throw new Error('deploy/kubernetes.yaml lacks a Deployment or a Service');
    const template = deployment.spec.template as { metadata: { labels: Record<string, string> } };
    expect(template.metadata.labels).toMatchObject(service.spec.selector as Record<string, string>);
    const [servicePort] = service.spec.ports as { targetPort: string | number }[];
    expect(containerPort(servicePort?.targetPort ?? '')).toBe(8080);
  });

  it('runs the image as its Dockerfile does: imgcls serve on 0.0.0.0 and the declared port, as uid 1000', () => {
    expect(container?.image).toMatch(/:[\w.-]+$/);
    expect(container?.image).not.toMatch(/:latest$/);
    expect(containerLine.slice(0, 2)).toEqual(['imgcls', 'serve']);
    expect(flagValue(containerLine, '--host')).toBe('0.0.0.0');
    expect(Number(flagValue(containerLine, '--port'))).toBe(container?.ports[0]?.containerPort);
    // The node images' `node` user, the Dockerfile's USER.
    expect(final.find((entry) => entry.keyword === 'USER')?.args).toBe('node');
    expect(podSpec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    // Every model the pods serve is baked into the image by default.
    const baked = (argDefault(instructions, 'IMGCLS_MODELS', 0) ?? '').split(/\s+/);
    for (const [index, arg] of containerLine.entries())
      if (containerLine[index - 1] === '--model') expect(baked).toContain(arg);
  });

  it('probes readiness on /readyz and liveness on /healthz of the serving port, with resources set', () => {
    const port = Number(flagValue(containerLine, '--port'));
    expect(container?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(containerPort(container?.readinessProbe.httpGet.port ?? '')).toBe(port);
    expect(container?.livenessProbe.httpGet.path).toBe('/healthz');
    expect(containerPort(container?.livenessProbe.httpGet.port ?? '')).toBe(port);
    expect(containerPort(container?.startupProbe?.httpGet.port ?? '')).toBe(port);
    for (const kind of ['requests', 'limits'] as const) {
      expect(container?.resources[kind]?.cpu).toBeDefined();
      expect(container?.resources[kind]?.memory).toBeDefined();
    }
    // Kubernetes kills a pod after its grace period: the preStop pause and the shutdown deadline fit.
    const preStop = container?.lifecycle?.preStop?.exec?.command ?? [];
    const pauseSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    const shutdownSeconds =
      Number(flagValue(containerLine, '--shutdown-timeout-ms') ?? 10_000) / 1000;
    expect(pauseSeconds + shutdownSeconds).toBeLessThan(
      podSpec?.terminationGracePeriodSeconds as number,
    );
  });
});

/** Copies what `docker build .` would send (tracked and untracked files, .gitignore applied) into `to`. */
function copyBuildContext(to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter((file) => file && existsSync(join(REPO_ROOT, file)));
  execFileSync('tar', ['-cf', join(to, '..', 'context.tar'), '--null', '-T', '-'], {
    cwd: REPO_ROOT,
    input: files.join('\0'),
  });
  execFileSync('tar', ['-xf', join(to, '..', 'context.tar'), '-C', to]);
}

/** Lets other users reach `path`: its folder and every parent folder made by this test file's mkdtemp. */
function openUp(path: string): void {
  for (let folder = path; folder.startsWith(tmpdir()) && folder !== dirname(tmpdir()); ) {
    chmodSync(folder, 0o755);
    folder = dirname(folder);
  }
}

const seedCnn = MODEL_PACKAGES['cifar10-seedcnn'];
if (!seedCnn) throw new Error('cifar10-seedcnn is not a pinned model package');

describe('the Dockerfile steps, run here', () => {
  let scratch: string;
  let appDir: string;
  let binDir: string;
  let cdn: CdnServer;
  let server: ServeProcess | undefined;
  const stepLog: { step: string; seconds: number }[] = [];
  /** Unprivileged like the image's USER, when this test may switch user. */
  const asOtherUser =
    process.getuid?.() === 0 && existsSync('/usr/bin/setpriv')
      ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
      : [];

  /** Runs one step asynchronously: the CDN stand-in in this process must go on answering meanwhile. */
  const runStep = async (step: string, env: NodeJS.ProcessEnv) => {
    const started = performance.now();
    const child = spawn('sh', ['deploy/docker-steps.sh', step], {
      cwd: scratch,
      env: {
        ...process.env,
        // pnpm's shims point NODE_PATH at the working tree's packages: an image has no such thing.
        NODE_PATH: undefined,
        NODE_ENV: undefined,
        ...env,
        IMGCLS_APP_DIR: appDir,
        TURBO_TELEMETRY_DISABLED: '1',
        // Packages unchanged since the working tree's last build are restored from its turbo cache.
        TURBO_CACHE_DIR: join(REPO_ROOT, '.turbo/cache'),
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    stepLog.push({ step, seconds: (performance.now() - started) / 1000 });
    console.info(
      `docker-steps.sh ${step}: exit ${code} after ${stepLog.at(-1)?.seconds.toFixed(1)} s`,
    );
    if (code !== 0) throw new Error(`docker-steps.sh ${step} exited ${code}:\n${output}`);
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'imgcls-docker-context-'));
    const outside = mkdtempSync(join(tmpdir(), 'imgcls-docker-image-'));
    appDir = join(outside, 'opt/imgcls');
    binDir = join(outside, 'usr/local/bin');
    copyBuildContext(scratch);
    // A stand-in for the npm CDN the models step pulls from at build time.
    cdn = await startCdnServer({
      [`${seedCnn.name}@${seedCnn.version}`]: join(REPO_ROOT, 'models/cifar10-seedcnn'),
    });
    await runStep('install', {});
    await runStep('build', {});
    await runStep('deploy', {});
    await runStep('models', {
      IMGCLS_MODELS: 'cifar10 cifar10-seedcnn',
      IMGCLS_REMOTE_HOST: cdn.url,
      IMGCLS_MODELS_DIR: undefined,
      IMGCLS_CACHE_DIR: undefined,
    });
    await runStep('link', { IMGCLS_BIN_DIR: binDir });
    if (asOtherUser.length > 0) openUp(outside);
  }, 900_000);
  afterAll(async () => {
    server?.kill();
    await cdn?.close();
  });

  it('deploys the CLI with its production dependencies only, nothing linked back to the build tree', () => {
    const store = readdirSync(join(appDir, 'node_modules/.pnpm'));
    for (const devTool of ['vitest', 'typescript', 'tsup', '@biomejs', 'turbo', 'esbuild'])
      expect(store.some((entry) => entry.startsWith(`${devTool.replace('/', '+')}@`))).toBe(false);
    for (const name of readdirSync(join(appDir, 'node_modules/@imgcls'))) {
      const real = realpathSync(join(appDir, 'node_modules/@imgcls', name));
      expect(real.startsWith(`${realpathSync(appDir)}${sep}`), `${name} → ${real}`).toBe(true);
      if (!name.startsWith('model-')) expect(existsSync(join(real, 'dist')), name).toBe(true);
    }
    // The pulled model is in the image's cache; only the installed cifar10 package came from the CLI's deps.
    expect(existsSync(join(appDir, 'cache'))).toBe(true);
    expect(cdn.requests.some((path) => path.endsWith('/model.json'))).toBe(true);
  });

  it("serves the image's command offline, as an unprivileged user, with probes and HEALTHCHECK answering", async () => {
    // The Dockerfile's CMD, on loopback and a free port instead of 0.0.0.0:8080, plus the pulled model.
    const args = cmd
      .slice(1)
      .map((arg, index, all) =>
        all[index - 1] === '--host' ? '127.0.0.1' : all[index - 1] === '--port' ? '0' : arg,
      );
    server = await startServe([], {
      cwd: '/',
      command: [
        ...asOtherUser,
        join(binDir, 'imgcls'),
        ...args,
        '--model',
        'cifar10-seedcnn',
        // As the Dockerfile says: a model pulled from a mirror is served with the same --remote-host.
        '--remote-host',
        cdn.url,
      ],
      env: {
        NODE_PATH: undefined,
        NODE_ENV: 'production',
        IMGCLS_CACHE_DIR: join(appDir, 'cache'),
        IMGCLS_MODELS_DIR: undefined,
        HOME: '/nonexistent',
      },
    });
    const listed = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      models: { id: string; source: string }[];
    };
    expect(listed.models.map((model) => [model.id, model.source])).toEqual([
      ['cifar10', 'package'],
      ['cifar10-seedcnn', 'cdn'],
    ]);
    const image = await sharp({
      create: { width: 40, height: 30, channels: 3, background: { r: 40, g: 90, b: 200 } },
    })
      .png()
      .toBuffer();
    for (const { id } of listed.models) {
      const answer = await fetch(`${server.url}/v1/models/${id}/classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: new Uint8Array(image),
      });
      expect(answer.status, id).toBe(200);
      expect(((await answer.json()) as { predictions: unknown[] }).predictions).toHaveLength(5);
    }

    // The probes of the manifest, on the routes this server really serves and documents.
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const probe of [
      container?.readinessProbe,
      container?.livenessProbe,
      container?.startupProbe,
    ]) {
      const path = probe?.httpGet.path ?? '';
      expect(Object.keys(openapi.paths)).toContain(path);
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }

    // The HEALTHCHECK command itself, pointed at this server's port.
    const healthcheck = final.find((entry) => entry.keyword === 'HEALTHCHECK')?.args ?? '';
    const script = /CMD node -e "(.*)"$/.exec(healthcheck)?.[1] ?? '';
    const port = new URL(server.url).port;
    const healthy = spawnSync(process.execPath, ['-e', script.replace(':8080/', `:${port}/`)]);
    expect(healthy.status).toBe(0);
    const unhealthy = spawnSync(process.execPath, ['-e', script.replace(':8080/', ':9/')]);
    expect(unhealthy.status).toBe(1);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});
