import type { ArmoryBridge } from '../common/bridge/contract.js';
import type { Store } from './store.js';

/** What every screen gets. */
export interface ViewContext {
  readonly bridge: ArmoryBridge;
  readonly store: Store;
  /** Goes to a screen: `services`, `services/web`, `nodes/add`. */
  navigate(route: string): void;
  /** Shows an error from a call in the page (code and message). */
  reportError(e: unknown): void;
}

/** A mounted screen: its element and what to undo when leaving it. */
export interface View {
  readonly el: HTMLElement;
  dispose(): void;
}

/** The message and code of a failed bridge call. */
export function errorText(e: unknown): string {
  const err = e as { message?: string; code?: string };
  return `${err.message ?? String(e)}${err.code ? ` [${err.code}]` : ''}`;
}
