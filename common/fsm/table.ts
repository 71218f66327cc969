/**
 * Explicit transition tables. A table maps each state to the events it accepts; each entry is a pure
 * function that returns the next state, the effects to perform and the reason. `step` never performs
 * anything itself: a separate runner carries out the effects and journals the transition.
 */
export interface Transition<S extends string, C, F> {
  readonly to: S;
  readonly ctx?: C;
  readonly effects?: readonly F[];
  readonly reason: string;
}

export type Handler<S extends string, E, C, F> = (ctx: C, event: E, now: number) => Transition<S, C, F>;

export type TransitionTable<S extends string, E extends { type: string }, C, F> = {
  readonly [K in S]: { readonly [T in E['type']]?: Handler<S, Extract<E, { type: T }>, C, F> };
};

export type StepResult<S extends string, C, F> =
  | { readonly handled: true; readonly from: S; readonly to: S; readonly ctx: C; readonly effects: readonly F[]; readonly reason: string }
  | { readonly handled: false; readonly from: S; readonly to: S; readonly ctx: C; readonly effects: readonly F[]; readonly reason: string };

/** Applies one event to one state. An event the state does not list is ignored, with no effects. */
export function step<S extends string, E extends { type: string }, C, F>(
  table: TransitionTable<S, E, C, F>,
  state: S,
  ctx: C,
  event: E,
  now: number,
): StepResult<S, C, F> {
  const row = table[state];
  const handler = row[event.type as E['type']] as Handler<S, E, C, F> | undefined;
  if (!handler) {
    return { handled: false, from: state, to: state, ctx, effects: [], reason: `ignored: ${event.type} in ${state}` };
  }
  const t = handler(ctx, event, now);
  return { handled: true, from: state, to: t.to, ctx: t.ctx ?? ctx, effects: t.effects ?? [], reason: t.reason };
}
