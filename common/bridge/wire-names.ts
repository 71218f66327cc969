/**
 * Wire names of the bridge, free of zod so that the renderer can use them at run time: a method is
 * `domain.method`, an event `domain.event`, and the interface calls an event's subscription `onEvent`.
 */
export const wireName = (domainName: string, member: string): string => `${domainName}.${member}`;

/** `onStatus` → `status`; anything else → null. */
export function eventOfListener(member: string): string | null {
  const m = /^on([A-Z])(.*)$/.exec(member);
  return m ? `${(m[1] as string).toLowerCase()}${m[2] as string}` : null;
}

/** The RPC methods every host serves besides the contract: event subscriptions. */
export const SUBSCRIBE_METHOD = 'rpc.subscribe';
export const UNSUBSCRIBE_METHOD = 'rpc.unsubscribe';
