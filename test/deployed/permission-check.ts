import { roleOf, deployedFunctions } from './deployed-functions';
import { decide, roleStatements } from './iam-policy';
import type { RecordedCall } from './recording-endpoint';
import type { ResourceRef, TemplateModel } from './template-model';

/**
 * Every recorded call checked against its caller's IAM statements in a template (the one
 * the harness ran, or an edited copy of it). Callers are named by physical name: a function,
 * a state machine (its role invokes the Task functions) or a schedule (its role starts the
 * state machine).
 */
export interface Denied {
  caller: string;
  action: string;
  resource: string;
  request: string;
  /** A statement that names the action but could not be evaluated (a Condition, NotAction …). */
  unevaluated?: string[];
}

export function identities(model: TemplateModel): Map<string, ResourceRef> {
  const roles = new Map<string, ResourceRef>();
  for (const f of deployedFunctions(model)) roles.set(f.name, f.role);
  for (const sm of model.resourcesOfType('AWS::StepFunctions::StateMachine')) roles.set(model.physicalName(sm), roleOf(model, sm.stack, sm.resource.Properties!.RoleArn));
  for (const s of model.resourcesOfType('AWS::Scheduler::Schedule')) roles.set(model.physicalName(s), roleOf(model, s.stack, s.resource.Properties!.Target.RoleArn));
  return roles;
}

export function deniedCalls(model: TemplateModel, calls: RecordedCall[]): Denied[] {
  const roles = identities(model);
  const statements = new Map([...roles].map(([caller, role]) => [caller, roleStatements(model, role)]));
  const denied: Denied[] = [];
  const seen = new Set<string>();
  for (const call of calls) {
    const key = `${call.caller} ${call.action} ${call.resource}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const own = statements.get(call.caller);
    if (!own) {
      denied.push({ caller: call.caller, action: call.action, resource: call.resource, request: call.request, unevaluated: ['the caller has no role in the template'] });
      continue;
    }
    if (decide(own, call.action, call.resource).allowed) continue;
    const unevaluated = own.filter((s) => s.unsupported && s.actions.some((a) => a.toLowerCase() === call.action.toLowerCase())).map((s) => `${s.source} (${s.unsupported})`);
    denied.push({ caller: call.caller, action: call.action, resource: call.resource, request: call.request, ...(unevaluated.length > 0 ? { unevaluated } : {}) });
  }
  return denied;
}

/** One line per caller and action: how many distinct resources were denied, and the first one with its request. */
export function describeDenied(denied: Denied[]): string {
  const groups = new Map<string, Denied[]>();
  for (const d of denied) groups.set(`${d.caller}: ${d.action}`, [...(groups.get(`${d.caller}: ${d.action}`) ?? []), d]);
  return [...groups]
    .map(([key, list]) => {
      const first = list[0]!;
      const where = list.length === 1 ? `on ${first.resource}` : `on ${list.length} resources, e.g. ${first.resource}`;
      return `${key} ${where} (${first.request}) is not allowed by its role${first.unevaluated ? `; not evaluated: ${first.unevaluated.join(', ')}` : ''}`;
    })
    .join('\n');
}
