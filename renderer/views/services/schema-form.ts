import type { Problem } from '../../../common/bridge/common.js';
import { field, h } from '../../components/dom.js';

/** Examples shown in the JSON fields that have them (valid against the configuration's schema). */
const JSON_EXAMPLES: Readonly<Record<string, string>> = {
  probes: '[{ "tcp": "127.0.0.1:6379", "send": "PING\\r\\n", "expect": "+PONG", "interval": "1s" }]',
};

/** The part of JSON Schema that zod's toJSONSchema produces for the configuration. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
  enum?: unknown[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  format?: string;
}

interface Binding {
  path: string;
  container: HTMLElement;
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  read(): unknown;
  write(v: unknown): void;
}

const humanise = (key: string) => {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const defaultText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const isRecord = (s: JsonSchema) => s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object';
const isStringList = (s: JsonSchema) => s.type === 'array' && s.items?.type === 'string';

/**
 * A form generated from the configuration's JSON Schema: a labelled control per field with its
 * help text and default (as placeholder), nested sections as fieldsets. An empty control means "the
 * default": the value holds only what the user wrote, and the real validator on the host judges it.
 */
export class SchemaForm {
  readonly el: HTMLElement;
  private readonly bindings: Binding[] = [];

  constructor(
    private readonly schema: JsonSchema,
    private readonly onChange: () => void,
    /** Top-level sections shown open; the rest fold into <details>. */
    private readonly openSections: readonly string[] = [],
  ) {
    this.el = h('div', { class: 'schema-form' }, ...this.fields(schema, ''));
  }

  private fields(schema: JsonSchema, prefix: string): HTMLElement[] {
    const required = new Set(schema.required ?? []);
    return Object.entries(schema.properties ?? {}).map(([key, s]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      if (s.type === 'object' && s.properties) {
        const legend = `${humanise(key)}${s.default === undefined && !required.has(key) ? ' (optional)' : ''}`;
        const body = [h('p', { class: 'help' }, s.description ?? ''), ...this.fields(s, path)];
        return prefix === '' && !this.openSections.includes(key)
          ? h('details', { class: 'section', 'data-path': path, testid: `section-${path}` }, h('summary', { testid: `section-toggle-${path}` }, legend), ...body)
          : h('fieldset', { class: 'section', 'data-path': path }, h('legend', {}, legend), ...body);
      }
      return this.leaf(key, path, s, required.has(key));
    });
  }

  private leaf(key: string, path: string, s: JsonSchema, required: boolean): HTMLElement {
    const label = `${humanise(key)}${required ? ' (required)' : ''}`;
    const hasDefault = s.default !== undefined;
    const dflt = hasDefault ? defaultText(s.default) : '';
    let help = s.description ?? '';
    let control: Binding['control'];
    let read: () => unknown;
    let write: (v: unknown) => void;
    const testid = `field-${path}`;
    if (s.enum || s.type === 'boolean') {
      const options = s.enum ?? [true, false];
      const sel = h('select', { testid }, h('option', { value: '' }, hasDefault ? `default (${dflt})` : '(not set)'), ...options.map((o) => h('option', { value: JSON.stringify(o) }, s.type === 'boolean' ? (o ? 'yes' : 'no') : String(o))));
      control = sel;
      read = () => (sel.value === '' ? undefined : JSON.parse(sel.value));
      write = (v) => (sel.value = v === undefined ? '' : JSON.stringify(v));
    } else if (isStringList(s) || isRecord(s)) {
      const record = isRecord(s);
      const ta = h('textarea', { rows: 3, testid, placeholder: hasDefault && dflt !== '[]' && dflt !== '{}' ? dflt : record ? 'NAME=value, one per line' : 'one per line' });
      help += record ? ' One NAME=value per line.' : ' One per line.';
      control = ta;
      read = () => {
        const lines = ta.value.split('\n').filter((l) => l.trim() !== '');
        if (lines.length === 0) return undefined;
        if (!record) return lines;
        return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=') < 0 ? l.length : l.indexOf('=')).trim(), l.indexOf('=') < 0 ? '' : l.slice(l.indexOf('=') + 1)]));
      };
      write = (v) => (ta.value = v === undefined ? '' : Array.isArray(v) ? v.join('\n') : Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${String(x)}`).join('\n'));
    } else if (s.type === 'string' || s.type === 'number' || s.type === 'integer') {
      const numeric = s.type !== 'string';
      const input = h('input', { type: 'text', testid, placeholder: dflt, inputmode: numeric ? 'decimal' : undefined, autocomplete: 'off', spellcheck: 'false' });
      if (s.format === 'duration') help += ' A number with a unit: 500ms, 2s, 1m, 1h.';
      control = input;
      read = () => {
        const t = input.value.trim();
        if (t === '') return undefined;
        return numeric && /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
      };
      write = (v) => (input.value = v === undefined ? '' : String(v));
    } else {
      const ta = h('textarea', { rows: 4, testid, class: 'code', placeholder: JSON_EXAMPLES[key] ? `JSON, e.g. ${JSON_EXAMPLES[key]}` : 'JSON' });
      help += ' Written as JSON.';
      control = ta;
      read = () => {
        const t = ta.value.trim();
        if (t === '') return undefined;
        try {
          return JSON.parse(t) as unknown;
        } catch {
          return t;
        }
      };
      write = (v) => (ta.value = v === undefined ? '' : JSON.stringify(v, null, 2));
    }
    if (hasDefault) help += ` Default: ${dflt}.`;
    control.addEventListener('input', this.onChange);
    control.addEventListener('change', this.onChange);
    const container = field(label, control, help.trim(), { path, testid: `field-box-${path}` });
    this.bindings.push({ path, container, control, read, write });
    return container;
  }

  /** Fills the form from an entry as written in the configuration. */
  fill(raw: Record<string, unknown>): void {
    for (const b of this.bindings) {
      let v: unknown = raw;
      for (const k of b.path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      b.write(v);
    }
  }

  /** What the user wrote, as a configuration entry (empty fields left out). */
  value(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const b of this.bindings) {
      const v = b.read();
      if (v === undefined) continue;
      const keys = b.path.split('.');
      let o = out;
      for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
      o[keys.at(-1) as string] = v;
    }
    return out;
  }

  /**
   * Shows each problem at its field (or the nearest enclosing one: `args[2]` at Args, `probes[0].port`
   * at Probes); returns those that match no field.
   */
  showProblems(problems: readonly Problem[]): Problem[] {
    for (const b of this.bindings) {
      b.container.classList.remove('invalid');
      b.control.removeAttribute('aria-invalid');
      const err = b.container.querySelector('.error');
      if (err) err.textContent = '';
    }
    const unmatched: Problem[] = [];
    for (const p of problems) {
      const segments = p.path.replace(/\[\d+\]/g, (m) => `.${m}`).split('.');
      let b: Binding | undefined;
      for (let n = segments.length; n > 0 && !b; n -= 1) {
        const candidate = segments.slice(0, n).join('.').replace(/\.\[/g, '[');
        b = this.bindings.find((x) => x.path === candidate);
      }
      if (!b) {
        unmatched.push(p);
        continue;
      }
      b.container.classList.add('invalid');
      b.control.setAttribute('aria-invalid', 'true');
      const err = b.container.querySelector('.error') as HTMLElement;
      err.textContent = err.textContent ? `${err.textContent} ${p.message}` : p.message;
      const details = b.container.closest('details');
      if (details) details.open = true;
    }
    return unmatched;
  }

  focusFirstInvalid(): void {
    (this.el.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
  }
}
