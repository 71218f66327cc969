import type { ServiceConfig } from '../common/config/service.js';

/** What must change to go from the running set to the desired one. */
export interface ReconcilePlan {
  add: string[];
  remove: string[];
  change: string[];
  keep: string[];
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sameSpec(a: ServiceConfig, b: ServiceConfig): boolean {
  return canonical(a) === canonical(b);
}

/** A pure diff by name and by the whole specification. */
export function planReconcile(current: ReadonlyMap<string, ServiceConfig>, desired: Readonly<Record<string, ServiceConfig>>): ReconcilePlan {
  const plan: ReconcilePlan = { add: [], remove: [], change: [], keep: [] };
  for (const name of current.keys()) if (!Object.hasOwn(desired, name)) plan.remove.push(name);
  for (const [name, spec] of Object.entries(desired)) {
    const had = current.get(name);
    if (!had) plan.add.push(name);
    else if (sameSpec(had, spec)) plan.keep.push(name);
    else plan.change.push(name);
  }
  return plan;
}
