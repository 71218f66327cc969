/** A tiny element builder: the GUI's whole "framework". */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

export interface Props {
  class?: string;
  /** Becomes data-testid: every interactive element has one. */
  testid?: string;
  [attr: string]: unknown;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, ...(c as Child[]));
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open', 'tabIndex', 'textContent']);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'testid') el.dataset.testid = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    else if (PROPERTIES.has(k)) (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A unique id for label/aria wiring. */
let seq = 0;
export const uid = (prefix: string): string => `${prefix}-${++seq}`;

/** A button: labelled, keyboard reachable, with a test id. */
export function button(label: string, testid: string, onClick: (e: MouseEvent) => void, props: Props = {}): HTMLButtonElement {
  return h('button', { type: 'button', testid, onClick, ...props }, label);
}

/** A labelled control with its help text and an error slot (aria-describedby). */
export function field(label: string, control: HTMLElement, help: string, props: { path?: string; testid?: string } = {}): HTMLElement {
  const id = control.id || (control.id = uid('f'));
  const helpId = `${id}-help`;
  const errId = `${id}-error`;
  control.setAttribute('aria-describedby', `${helpId} ${errId}`);
  return h(
    'div',
    { class: 'field', 'data-path': props.path, testid: props.testid },
    h('label', { for: id }, label),
    control,
    h('p', { class: 'help', id: helpId }, help),
    h('p', { class: 'error', id: errId, role: 'alert', testid: props.path !== undefined ? `field-error-${props.path}` : undefined }),
  );
}

export function fmtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function fmtPercent(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(v >= 0.9995 ? 1 : 2)} %`;
}

/** An empty screen always says what to do next. */
export function emptyState(testid: string, text: string, ...actions: Child[]): HTMLElement {
  return h('div', { class: 'empty', testid }, h('p', {}, text), ...actions);
}
