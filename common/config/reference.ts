import { z } from 'zod';
import { configSchema } from './document.js';

/** One documented field of the configuration, taken from the schema's own help texts. */
export interface FieldHelp {
  path: string;
  type: string;
  default?: string;
  required: boolean;
  help: string;
}

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  required?: string[];
  format?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => String(v)).join(' | ');
  if (s.format === 'duration' || s.format === 'size') return s.format;
  if (s.const !== undefined) return String(s.const);
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return 'map';
  if (s.type === 'object') return 'object';
  return Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'value');
}

function walk(s: JsonSchema, path: string, required: boolean, out: FieldHelp[]): void {
  if (path !== '') {
    const field: FieldHelp = { path, type: typeOf(s), required, help: s.description ?? '' };
    if (s.default !== undefined && !(typeof s.default === 'object' && s.default !== null && Object.keys(s.default).length === 0)) {
      field.default = JSON.stringify(s.default);
    }
    out.push(field);
  }
  if (s.properties) {
    const req = new Set(s.required ?? []);
    for (const [key, child] of Object.entries(s.properties)) walk(child, path ? `${path}.${key}` : key, req.has(key), out);
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object' && s.additionalProperties.properties) {
    walk({ ...s.additionalProperties, description: undefined }, `${path}.<name>`, true, out);
    out.splice(out.findIndex((f) => f.path === `${path}.<name>`), 1);
  } else if (s.items) {
    const variants = s.items.anyOf ?? [s.items];
    for (const v of variants) {
      if (!v.properties) continue;
      walk({ ...v, description: undefined }, `${path}[]`, true, out);
      out.splice(out.findIndex((f) => f.path === `${path}[]`), 1);
    }
  } else if (s.anyOf) {
    for (const v of s.anyOf) if (v.properties) for (const [key, child] of Object.entries(v.properties)) walk(child, `${path}.${key}`, false, out);
  }
}

/** Every field of the configuration with its type, default and help, in document order. */
export function configReference(): FieldHelp[] {
  const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: FieldHelp[] = [];
  walk(json, '', true, out);
  const seen = new Set<string>();
  return out.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true)));
}

/** The reference as a Markdown table, for the README. */
export function configReferenceMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = configReference().map(
    (f) => `| \`${f.path}\` | ${esc(f.type)} | ${f.required ? 'required' : f.default !== undefined ? `\`${esc(f.default)}\`` : '—'} | ${esc(f.help)} |`,
  );
  return ['| field | type | default | what it does |', '|---|---|---|---|', ...rows].join('\n');
}
