import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../infra/paths';
import type { ResourceRef, TemplateModel } from './template-model';

/**
 * Every AWS::Lambda::Function of the template, as Lambda would run it: its code (the zip
 * asset's bundle; for an image, the staged Docker context built the way its Dockerfile
 * builds it), handler, memory, timeout, role and environment variables (resolved).
 */
export interface DeployedFunction {
  ref: ResourceRef;
  /** Its physical name: what callers invoke and what the records name as the caller. */
  name: string;
  arn: string;
  env: Record<string, string>;
  memoryMb: number;
  timeoutMs: number;
  role: ResourceRef;
  code: { kind: 'zip' | 'image'; dir: string };
  handler: string;
}

export function roleOf(model: TemplateModel, stack: string, roleArn: unknown): ResourceRef {
  const arn = String(model.resolve(stack, roleArn));
  const role = model.findByPhysical('AWS::IAM::Role', arn);
  if (!role) throw new Error(`role ${arn} is not a role of the templates`);
  return { stack: role.stack, logicalId: role.logicalId };
}

function assetHash(code: Record<string, unknown>, model: TemplateModel, stack: string): string {
  if (code.S3Key !== undefined) return String(model.resolve(stack, code.S3Key)).replace(/\.zip$/, '');
  if (code.ImageUri !== undefined) return String(model.resolve(stack, code.ImageUri)).split(':').pop()!;
  throw new Error(`${stack}: a function whose code is neither an S3 asset nor an image (inline code?) cannot be run by the harness`);
}

export function deployedFunctions(model: TemplateModel): DeployedFunction[] {
  return model.resourcesOfType('AWS::Lambda::Function').map((f) => {
    const p = f.resource.Properties ?? {};
    const assets = model.stack(f.stack).assets;
    const hash = assetHash(p.Code ?? {}, model, f.stack);
    const image = p.PackageType === 'Image';
    const source = image ? assets.dockerImages?.[hash]?.source.directory : assets.files?.[hash]?.source.path;
    if (!source) throw new Error(`${f.stack}/${f.logicalId}: asset ${hash} is not in the assembly's asset manifest`);
    const env = model.resolve(f.stack, p.Environment?.Variables ?? {}) as Record<string, unknown>;
    return {
      ref: { stack: f.stack, logicalId: f.logicalId },
      name: model.physicalName(f),
      arn: model.arn(f),
      env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      memoryMb: Number(p.MemorySize ?? 128),
      timeoutMs: Number(p.Timeout ?? 3) * 1000,
      role: roleOf(model, f.stack, p.Role),
      code: { kind: image ? 'image' : 'zip', dir: path.join(model.assemblyDir, source) },
      handler: image ? '' : String(p.Handler),
    };
  });
}

/**
 * Builds an image function's staged Docker context without Docker: the repository's
 * node_modules stand in for the image's `npm ci` (a symlink at the context's root, where the
 * image has /var/task/node_modules above the handler), then the build stage's bundle command
 * runs in the context, and the handler is the Dockerfile's CMD in the directory its final
 * stage copies. Returns the bundle to run and its handler.
 */
export async function buildImageFunction(contextDir: string, dockerfile = 'Dockerfile'): Promise<{ bundle: string; handler: string; cwd: string }> {
  const text = fs.readFileSync(path.join(contextDir, dockerfile), 'utf8').replace(/\\\n/g, ' ');
  const command = /RUN\s+(node\s+\S*bundle-functions\.mjs[^&\n]*)/.exec(text)?.[1]?.trim();
  const workdir = /^WORKDIR\s+(\S+)/m.exec(text)?.[1] ?? '/';
  const copied = [...text.matchAll(/^COPY\s+--from=\S+\s+(\S+)\s+\$\{LAMBDA_TASK_ROOT\}\/?\s*$/gm)].map((m) => m[1]!).find((from) => !from.includes('node_modules'));
  const cmd = /^CMD\s+\[\s*"([^"]+)"/m.exec(text)?.[1];
  if (!command || !copied || !cmd) throw new Error(`${dockerfile}: cannot find the bundle command, the COPY of the handler into LAMBDA_TASK_ROOT, or the CMD`);
  const modules = path.join(contextDir, 'node_modules');
  if (!fs.existsSync(modules)) fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), modules, 'dir');
  const [program, ...args] = command.split(/\s+/);
  await promisify(execFile)(program === 'node' ? process.execPath : program!, args, { cwd: contextDir });
  const taskRoot = path.join(contextDir, path.relative(workdir, copied));
  const [file, exported] = cmd.split('.');
  return { bundle: path.join(taskRoot, `${file}.js`), handler: `${file}.${exported}`, cwd: taskRoot };
}
