import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../../common/config/document.js';
import { configReference, configReferenceMarkdown, type FieldHelp } from '../../../../common/config/reference.js';

/** Every field path of the schema, read from the zod schema itself (not from the JSON schema the reference uses). */
function schemaPaths(schema: z.core.$ZodType, path: string, out: Set<string>): void {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodNullable) {
    schemaPaths(schema.unwrap() as z.core.$ZodType, path, out);
  } else if (schema instanceof z.ZodPipe) {
    schemaPaths(schema.in as z.core.$ZodType, path, out);
  } else if (schema instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(schema.shape as Record<string, z.core.$ZodType>)) {
      const p = path ? `${path}.${key}` : key;
      out.add(p);
      schemaPaths(child, p, out);
    }
  } else if (schema instanceof z.ZodRecord) {
    schemaPaths(schema.valueType as z.core.$ZodType, `${path}.<name>`, out);
  } else if (schema instanceof z.ZodArray) {
    schemaPaths(schema.element as z.core.$ZodType, `${path}[]`, out);
  } else if (schema instanceof z.ZodUnion) {
    for (const option of schema.options as readonly z.core.$ZodType[]) schemaPaths(option, path, out);
  }
}

function field(fields: readonly FieldHelp[], path: string): FieldHelp {
  const f = fields.find((x) => x.path === path);
  if (!f) throw new Error(`${path} is not in the reference`);
  return f;
}

describe('configReference', () => {
  const fields = configReference();

  it('lists exactly the fields of the schema, each once', () => {
    const expected = new Set<string>();
    schemaPaths(configSchema, '', expected);
    expect(expected.size).toBeGreaterThan(50);
    expect(fields.map((f) => f.path).sort()).toEqual([...expected].sort());
  });

  it('gives every field a one-line help text', () => {
    const missing = fields.filter((f) => f.help.trim() === '').map((f) => f.path);
    expect(missing).toEqual([]);
    for (const f of fields) expect(f.help).not.toMatch(/\n/);
  });

  it('documents the restart budget with its default', () => {
    expect(field(fields, 'services.<name>.restart.budget.restarts')).toMatchObject({ type: 'integer', default: '5', required: false });
    expect(field(fields, 'services.<name>.restart.budget.window')).toMatchObject({ type: 'duration', default: '"1m"' });
  });

  it('documents the stop grace as a duration with default "10s"', () => {
    expect(field(fields, 'services.<name>.stop.grace')).toMatchObject({ type: 'duration', default: '"10s"', required: false });
  });

  it('marks required fields and shows enums and sizes by type', () => {
    expect(field(fields, 'services.<name>.command')).toMatchObject({ type: 'string', required: true });
    expect(field(fields, 'services.<name>.command').default).toBeUndefined();
    expect(field(fields, 'services.<name>.restart.policy')).toMatchObject({ type: 'never | on-failure | always', default: '"always"' });
    expect(field(fields, 'services.<name>.logs.maxSize')).toMatchObject({ type: 'size', default: '"10MB"' });
    expect(field(fields, 'services.<name>.probes[].tcp').type).toBe('string');
  });

  it('lists parents before their children (document order)', () => {
    const index = (p: string) => fields.findIndex((f) => f.path === p);
    expect(index('services')).toBeLessThan(index('services.<name>.command'));
    expect(index('services.<name>.restart')).toBeLessThan(index('services.<name>.restart.budget'));
    expect(index('services.<name>.restart.budget')).toBeLessThan(index('services.<name>.restart.budget.restarts'));
  });
});

describe('configReferenceMarkdown', () => {
  const md = configReferenceMarkdown();
  const rows = md.split('\n');
  const cells = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());

  it('is a Markdown table with a header and one row per field', () => {
    expect(rows[0]).toBe('| field | type | default | what it does |');
    expect(rows[1]).toBe('|---|---|---|---|');
    expect(rows.length).toBe(configReference().length + 2);
    for (const row of rows) expect(cells(row)).toHaveLength(4);
  });

  it('shows the path, type, default and help of each field, escaping pipes', () => {
    const row = rows.find((r) => r.startsWith('| `services.<name>.restart.policy` |'));
    expect(row).toBeDefined();
    expect(cells(row ?? '')).toEqual([
      '`services.<name>.restart.policy`',
      'never \\| on-failure \\| always',
      '`"always"`',
      'When to restart: never, on-failure (non-zero exit, signal or hang) or always.',
    ]);
  });

  it('says "required" for required fields and a dash when there is no default', () => {
    expect(cells(rows.find((r) => r.startsWith('| `services.<name>.command` |')) ?? '')[2]).toBe('required');
    expect(cells(rows.find((r) => r.startsWith('| `services.<name>.user` |')) ?? '')[2]).toBe('—');
  });
});
