import { join } from 'node:path';
import { resolveModel } from '@imgcls/models';
import {
  cachedModel,
  localModel,
  localModelsDir,
  type ModelCheck,
  modelDirectory,
  pathExists,
  readMetadata,
  verifyModelDirectory,
  writeMetadata,
} from '@imgcls/models/node';
import type { Command } from 'commander';
import { EXIT } from '../errors';
import type { Terminal } from '../terminal';

interface VerifyFlags {
  readonly record?: boolean;
  readonly json?: boolean;
}

/** A hosted model with no local copy: its cached files load offline, with model.json's pinned checksum. */
async function verifyCached(url: string, sha256: string | undefined): Promise<ModelCheck[]> {
  try {
    const model = await cachedModel(url, { offline: true, ...(sha256 ? { sha256 } : {}) });
    await model.handler.load?.();
    return [
      {
        name: 'cache',
        ok: true,
        detail: `${url} is cached and complete${sha256 ? ', model.json matches its pinned SHA-256' : ''}`,
      },
    ];
  } catch (error) {
    return [{ name: 'cache', ok: false, detail: (error as Error).message }];
  }
}

/** `imgcls models verify <id|folder>`: checks a model's files against its model.json and metadata checksums. */
export function registerModelsVerify(models: Command, terminal: () => Terminal): void {
  models
    .command('verify')
    .description(
      "check a model's files: model.json, every weight shard and its size, metadata.json, weightsSha256",
    )
    .argument('<id|folder>', 'registered model id or model folder')
    .option('--record', 'write the weights’ SHA-256 into metadata.json when it records none')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  imgcls models verify cifar10-seedcnn
  imgcls models verify models/mobilenet-v2 --record
  imgcls models verify mobilenet-v2 --json

Exit code 0 when every check passes, 1 when one fails.`,
    )
    .action(async (reference: string, flags: VerifyFlags) => {
      const out = terminal();
      const local = pathExists(reference) ? await modelDirectory(reference) : undefined;
      const entry = local ? undefined : resolveModel(reference);
      const directory =
        local ??
        (entry?.source.kind === 'directory'
          ? join(localModelsDir(), entry.source.directory)
          : localModel(reference));
      let checks: readonly ModelCheck[] = [];
      let weightsSha256: string | undefined;
      if (directory) {
        const verification = await verifyModelDirectory(directory);
        checks = verification.checks;
        weightsSha256 = verification.weightsSha256;
      } else if (entry?.source.kind === 'url') {
        checks = await verifyCached(entry.source.url, entry.source.sha256);
      }
      let recorded = false;
      if (flags.record && directory && weightsSha256 && checks.every((check) => check.ok)) {
        const metadata = await readMetadata(directory);
        if (metadata && metadata.weightsSha256 === undefined) {
          await writeMetadata(directory, { ...metadata, weightsSha256 });
          recorded = true;
        }
      }
      const ok = checks.length > 0 && checks.every((check) => check.ok);
      if (flags.json)
        out.out(JSON.stringify({ reference, directory, ok, checks, weightsSha256, recorded }));
      else {
        for (const check of checks)
          out.out(
            `${check.ok ? out.style('green', 'ok  ') : out.style('red', 'FAIL')} ${check.name}: ${check.detail}`,
          );
        if (recorded)
          out.out(
            `recorded weightsSha256 ${weightsSha256} in ${join(directory as string, 'metadata.json')}`,
          );
        out.out(ok ? `${reference}: verified` : `${reference}: verification failed`);
      }
      if (!ok) process.exitCode = EXIT.failed;
    });
}
