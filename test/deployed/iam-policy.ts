import type { ResourceRef, TemplateModel } from './template-model';

/**
 * An identity's permissions as the template grants them: the statements of its role's inline
 * policies and of every AWS::IAM::Policy / AWS::IAM::ManagedPolicy attached to the role,
 * resources resolved like the rest of the template. Evaluation is IAM's for what these
 * templates use: an explicit Deny wins, else some Allow must match the action (wildcards,
 * case-insensitive) and the resource (wildcards). Conditions, NotAction, NotResource and
 * AWS-managed policies are not evaluated: a statement using them is reported, never trusted.
 */
export interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  /** Where it comes from: `<stack>/<policy logical id>#<index>`. */
  source: string;
  unsupported?: string;
}

export interface Decision {
  allowed: boolean;
  /** The statement that decided (an Allow that matched, or a Deny). */
  by?: string;
}

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function statementsOf(model: TemplateModel, stack: string, document: any, source: string): Statement[] {
  const resolved = model.resolve(stack, document) as { Statement?: unknown };
  return asList(resolved.Statement).map((raw: any, index) => {
    const unsupported = ['Condition', 'NotAction', 'NotResource', 'NotPrincipal'].filter((key) => raw[key] !== undefined);
    return {
      effect: raw.Effect === 'Deny' ? 'Deny' : 'Allow',
      actions: asList(raw.Action).map(String),
      resources: asList(raw.Resource).map(String),
      source: `${source}#${index}`,
      ...(unsupported.length > 0 ? { unsupported: unsupported.join(', ') } : {}),
    };
  });
}

const refersTo = (value: unknown, roleLogicalId: string): boolean => {
  const v = value as { Ref?: unknown } | null;
  return v !== null && typeof v === 'object' && v.Ref === roleLogicalId;
};

/** Every statement that applies to the role. */
export function roleStatements(model: TemplateModel, role: ResourceRef): Statement[] {
  const statements: Statement[] = [];
  const roleResource = model.resource(role);
  for (const [i, inline] of asList(roleResource.Properties?.Policies).entries()) {
    statements.push(...statementsOf(model, role.stack, (inline as any).PolicyDocument, `${role.stack}/${role.logicalId}.Policies[${i}]`));
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const policy of model.resourcesOfType(type)) {
      if (policy.stack !== role.stack) continue;
      if (!asList(policy.resource.Properties?.Roles).some((r) => refersTo(r, role.logicalId))) continue;
      statements.push(...statementsOf(model, policy.stack, policy.resource.Properties!.PolicyDocument, `${policy.stack}/${policy.logicalId}`));
    }
  }
  return statements;
}

function wildcard(pattern: string, flags = ''): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

const matchesAction = (pattern: string, action: string) => wildcard(pattern, 'i').test(action);
const matchesResource = (pattern: string, resource: string) => wildcard(pattern).test(resource);

export function decide(statements: Statement[], action: string, resource: string): Decision {
  const applies = (s: Statement) => !s.unsupported && s.actions.some((a) => matchesAction(a, action)) && s.resources.some((r) => matchesResource(r, resource));
  const deny = statements.find((s) => s.effect === 'Deny' && applies(s));
  if (deny) return { allowed: false, by: deny.source };
  const allow = statements.find((s) => s.effect === 'Allow' && applies(s));
  return allow ? { allowed: true, by: allow.source } : { allowed: false };
}
