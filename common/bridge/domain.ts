import type { z } from 'zod';
import type { MethodContract } from '../rpc/envelope.js';

/**
 * One domain of the GUI bridge: its methods (params + result schemas) and its events (one schema
 * per event). On the wire a method is called `domain.method` and an event is `domain.event`.
 */
export interface BridgeDomain {
  readonly methods: Readonly<Record<string, MethodContract<z.ZodType, z.ZodType>>>;
  readonly events: Readonly<Record<string, z.ZodType>>;
}

/** Declares a domain while keeping its exact method and event types. */
export function domain<M extends Record<string, MethodContract<z.ZodType, z.ZodType>>, E extends Record<string, z.ZodType>>(methods: M, events: E): { readonly methods: M; readonly events: E } {
  return Object.freeze({ methods: Object.freeze(methods), events: Object.freeze(events) });
}

/** What an event subscription returns: `dispose()` stops the listener. */
export interface Disposable {
  dispose(): void;
}

/** `status` → `onStatus`: the name of an event's subscription method in the bridge interface. */
export type EventMethodName<E extends string> = `on${Capitalize<E>}`;

/** A method of the interface: params may be left out where the schema accepts undefined. */
export type BridgeMethod<C extends BridgeDomain['methods'][string]> = undefined extends z.input<C['params']>
  ? (params?: z.input<C['params']>) => Promise<z.output<C['result']>>
  : (params: z.input<C['params']>) => Promise<z.output<C['result']>>;

/** The bridge interface of one domain, derived from its schemas. */
export type DomainApi<D extends BridgeDomain> = {
  readonly [M in keyof D['methods'] & string]: BridgeMethod<D['methods'][M]>;
} & {
  readonly [E in keyof D['events'] & string as EventMethodName<E>]: (listener: (data: z.output<D['events'][E]>) => void) => Disposable;
};
