import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The synthesized cloud assembly read as CloudFormation would deploy it, with every intrinsic
 * (Ref, Fn::GetAtt, Fn::ImportValue, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, pseudo
 * parameters) resolved to the local stand-ins: a table's or a bucket's physical name is the
 * local one the harness creates, a function's name is what the local Lambda Invoke API
 * serves. Nothing here knows what the app holds: functions, roles, policies, tables and
 * buckets are found by resource type.
 */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  [key: string]: unknown;
}

export interface StackTemplate {
  stackName: string;
  template: CfnTemplate;
  /** The assembly's asset manifest (zip sources and Docker contexts), by hash. */
  assets: { files?: Record<string, { source: { path: string } }>; dockerImages?: Record<string, { source: { directory: string } }> };
}

/** A resource named across stacks: `<stack>/<logicalId>`. */
export interface ResourceRef {
  stack: string;
  logicalId: string;
}

export class TemplateModel {
  private readonly exports = new Map<string, { stack: string; value: unknown }>();

  constructor(
    readonly stacks: StackTemplate[],
    readonly assemblyDir: string,
  ) {
    for (const s of stacks) {
      for (const output of Object.values(s.template.Outputs ?? {})) {
        if (output.Export) this.exports.set(String(this.resolve(s.stackName, output.Export.Name)), { stack: s.stackName, value: output.Value });
      }
    }
  }

  /** Reads every stack of a synthesized assembly directory (its manifest lists the stacks). */
  static fromAssembly(dir: string): TemplateModel {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, any> };
    const stacks: StackTemplate[] = [];
    for (const [id, artifact] of Object.entries(manifest.artifacts)) {
      if (artifact.type !== 'aws:cloudformation:stack') continue;
      const template = JSON.parse(fs.readFileSync(path.join(dir, artifact.properties.templateFile), 'utf8')) as CfnTemplate;
      const assetsFile = path.join(dir, `${id}.assets.json`);
      const assets = fs.existsSync(assetsFile) ? JSON.parse(fs.readFileSync(assetsFile, 'utf8')) : {};
      stacks.push({ stackName: artifact.properties.stackName ?? id, template, assets });
    }
    return new TemplateModel(stacks, dir);
  }

  /** A deep copy whose templates the caller may edit (a removed permission, a removed variable). */
  copy(edit: (stacks: StackTemplate[]) => void = () => undefined): TemplateModel {
    const stacks = structuredClone(this.stacks);
    edit(stacks);
    return new TemplateModel(stacks, this.assemblyDir);
  }

  stack(name: string): StackTemplate {
    const found = this.stacks.find((s) => s.stackName === name);
    if (!found) throw new Error(`no stack ${name} in the assembly (stacks: ${this.stacks.map((s) => s.stackName).join(', ')})`);
    return found;
  }

  resource(ref: ResourceRef): CfnResource {
    const found = this.stack(ref.stack).template.Resources[ref.logicalId];
    if (!found) throw new Error(`no resource ${ref.logicalId} in ${ref.stack}`);
    return found;
  }

  resourcesOfType(type: string): (ResourceRef & { resource: CfnResource })[] {
    return this.stacks.flatMap((s) =>
      Object.entries(s.template.Resources)
        .filter(([, r]) => r.Type === type)
        .map(([logicalId, resource]) => ({ stack: s.stackName, logicalId, resource })),
    );
  }

  /** The physical name the harness gives a resource (CloudFormation would generate one like it). */
  physicalName(ref: ResourceRef): string {
    const r = this.resource(ref);
    const explicit = { 'AWS::DynamoDB::Table': 'TableName', 'AWS::S3::Bucket': 'BucketName', 'AWS::Lambda::Function': 'FunctionName', 'AWS::IAM::Role': 'RoleName' }[r.Type];
    if (explicit && r.Properties?.[explicit] !== undefined) return String(this.resolve(ref.stack, r.Properties[explicit]));
    const generated = `${ref.stack}-${ref.logicalId}`;
    return r.Type === 'AWS::S3::Bucket' ? generated.toLowerCase().slice(0, 63) : generated;
  }

  /** What `Ref` answers for a resource. */
  private refOf(ref: ResourceRef): string {
    const r = this.resource(ref);
    if (r.Type === 'AWS::StepFunctions::StateMachine') return this.arnOf(ref);
    return this.physicalName(ref);
  }

  private arnOf(ref: ResourceRef): string {
    const name = this.physicalName(ref);
    const regional = (service: string, rest: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${rest}`;
    switch (this.resource(ref).Type) {
      case 'AWS::DynamoDB::Table':
        return regional('dynamodb', `table/${name}`);
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::Lambda::Function':
        return regional('lambda', `function:${name}`);
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`;
      case 'AWS::Logs::LogGroup':
        return regional('logs', `log-group:${name}:*`);
      case 'AWS::SQS::Queue':
        return regional('sqs', name);
      case 'AWS::SNS::Topic':
        return regional('sns', name);
      case 'AWS::StepFunctions::StateMachine':
        return regional('states', `stateMachine:${name}`);
      default:
        return regional('unknown', name);
    }
  }

  private getAtt(ref: ResourceRef, attribute: string): string {
    if (attribute === 'Arn') return this.arnOf(ref);
    if (attribute === 'Name' || attribute === 'QueueName' || attribute === 'TopicName') return this.physicalName(ref);
    if (attribute === 'QueueUrl') return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${this.physicalName(ref)}`;
    return `${this.arnOf(ref)}#${attribute}`;
  }

  private pseudo(name: string): string | undefined {
    const values: Record<string, string> = { 'AWS::AccountId': LOCAL_ACCOUNT, 'AWS::Region': LOCAL_REGION, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
    if (!(name in values)) throw new Error(`pseudo parameter ${name} is not supported by the harness's resolver`);
    return values[name];
  }

  /** Resolves a template value in the context of one stack. */
  resolve(stack: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref': {
          const name = String(arg);
          if (name.startsWith('AWS::')) return this.pseudo(name);
          return this.refOf({ stack, logicalId: name });
        }
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          return this.getAtt({ stack, logicalId: logicalId! }, attribute!);
        }
        case 'Fn::ImportValue': {
          const name = String(this.resolve(stack, arg));
          const exported = this.exports.get(name);
          if (!exported) throw new Error(`Fn::ImportValue ${name}: no stack exports it`);
          return this.resolve(exported.stack, exported.value);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(stack, parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(stack, list) as unknown[])[Number(this.resolve(stack, index))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(stack, text)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
          return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
            if (name in vars) return String(this.resolve(stack, vars[name]));
            if (name.startsWith('AWS::')) return String(this.pseudo(name));
            const [logicalId, attribute] = name.split('.');
            return attribute ? this.getAtt({ stack, logicalId: logicalId! }, attribute) : this.refOf({ stack, logicalId: logicalId! });
          });
        }
        default:
          if (fn.startsWith('Fn::')) throw new Error(`intrinsic ${fn} is not supported by the harness's resolver`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  /** Which resource (by type) a resolved ARN or physical name designates. */
  findByPhysical(type: string, nameOrArn: string): (ResourceRef & { resource: CfnResource }) | undefined {
    return this.resourcesOfType(type).find((r) => this.physicalName(r) === nameOrArn || this.arnOf(r) === nameOrArn || nameOrArn.startsWith(`${this.arnOf(r)}:`));
  }

  arn(ref: ResourceRef): string {
    return this.arnOf(ref);
  }
}
