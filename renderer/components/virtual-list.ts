import { h } from './dom.js';

/**
 * A list that creates DOM rows only for what is on screen (plus a margin), so that 100k entries
 * scroll and update as fast as 100. Rows have a fixed height.
 */
export class VirtualList<T> {
  readonly el: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private items: readonly T[] = [];
  private frame = 0;
  private stickToEnd = true;

  constructor(
    private readonly rowHeight: number,
    private readonly renderRow: (item: T, index: number) => HTMLElement,
    props: { testid: string; label: string },
  ) {
    this.rows = h('div', { class: 'vrows' });
    this.spacer = h('div', { class: 'vspacer' }, this.rows);
    this.el = h('div', { class: 'vlist', tabindex: 0, role: 'list', 'aria-label': props.label, testid: props.testid }, this.spacer);
    this.el.addEventListener('scroll', () => {
      this.stickToEnd = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - this.rowHeight * 2;
      this.schedule();
    });
    this.el.addEventListener('keydown', (e) => {
      const page = this.el.clientHeight - this.rowHeight;
      const moves: Record<string, number> = { ArrowDown: this.rowHeight, ArrowUp: -this.rowHeight, PageDown: page, PageUp: -page };
      if (e.key in moves) this.el.scrollTop += moves[e.key] as number;
      else if (e.key === 'Home') this.el.scrollTop = 0;
      else if (e.key === 'End') this.el.scrollTop = this.el.scrollHeight;
      else return;
      e.preventDefault();
    });
  }

  get length(): number {
    return this.items.length;
  }

  /** Replaces the items; a list scrolled to its end stays at the end (live tail). */
  set(items: readonly T[]): void {
    this.items = items;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.paint());
  }

  private paint(): void {
    this.frame = 0;
    const total = this.items.length * this.rowHeight;
    this.spacer.style.height = `${total}px`;
    if (this.stickToEnd) this.el.scrollTop = total;
    const first = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - 10);
    const count = Math.ceil((this.el.clientHeight || 600) / this.rowHeight) + 20;
    const last = Math.min(this.items.length, first + count);
    this.rows.style.transform = `translateY(${first * this.rowHeight}px)`;
    const out: HTMLElement[] = [];
    for (let i = first; i < last; i += 1) {
      const row = this.renderRow(this.items[i] as T, i);
      row.style.height = `${this.rowHeight}px`;
      row.setAttribute('role', 'listitem');
      out.push(row);
    }
    this.rows.replaceChildren(...out);
  }
}
