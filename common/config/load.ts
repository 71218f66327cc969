import { isMap, isNode, isScalar, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import type { z } from 'zod';
import { ArmoryError } from '../errors/armory-error.js';
import { crossCheck } from './cross-check.js';
import { configSchema, type ArmoryConfig } from './document.js';

/** One thing wrong with a configuration: where (field path and line) and what. */
export interface ConfigProblem {
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export type ConfigResult = { ok: true; config: ArmoryConfig } | { ok: false; problems: ConfigProblem[] };

export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Finds the deepest YAML node along a path, to point at the line a problem is on. */
function locate(doc: Document, path: readonly PropertyKey[], lines: LineCounter): { line: number; column: number } | undefined {
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  for (let len = path.length; len >= 0; len -= 1) {
    const last = path[len - 1];
    // A map entry is shown where its key is written (its value may start on the next line).
    if (len > 0 && typeof last === 'string') {
      const parent: unknown = len === 1 ? doc.contents : doc.getIn(path.slice(0, len - 1) as unknown[], true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
      }
    }
    const node: unknown = len === 0 ? doc.contents : doc.getIn(path.slice(0, len) as unknown[], true);
    if (isNode(node) && node.range) return at(node.range[0]);
  }
  return undefined;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined) return 'required field is missing';
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  return issue.message;
}

/** Parses and validates a configuration written in YAML; every problem is listed with its line. */
export function parseConfigText(text: string): ConfigResult {
  if (text.length > MAX_CONFIG_BYTES) {
    return { ok: false, problems: [{ path: '(document)', message: `the file is larger than ${MAX_CONFIG_BYTES} bytes` }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    return {
      ok: false,
      problems: yamlProblems.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '(yaml)', message: (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ""), ...(pos ? { line: pos.line, column: pos.col } : {}) };
      }),
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return { ok: false, problems: [{ path: '(yaml)', message: `cannot expand the document: ${(e as Error).message}` }] };
  }
  return validateConfig(raw, (path) => locate(doc, path, lines));
}

/** Validates an already parsed document (JSON from the wire, or YAML turned into objects). */
export function validateConfig(
  raw: unknown,
  where: (path: readonly PropertyKey[]) => { line: number; column: number } | undefined = () => undefined,
): ConfigResult {
  // An empty section (`services:` with every entry commented out) means none, not an error.
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const doc = { ...(raw as Record<string, unknown>) };
    for (const k of ['nodes', 'services', 'groups', 'jobs']) if (doc[k] === null) delete doc[k];
    raw = doc;
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  const issues: { path: PropertyKey[]; message: string }[] = result.error.issues.map((issue) => ({
    // An unknown field is shown on its own line, not on the first line of its block.
    path: issue.path,
    at: issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path,
    message: describeIssue(issue, raw),
  }));
  // Cross-field checks are skipped by the schema while any field is invalid: run them on the raw input.
  for (const c of crossCheck(raw)) {
    if (!issues.some((i) => formatPath(i.path) === formatPath(c.path) && i.message === c.message)) issues.push(c);
  }
  const problems = issues.map((issue) => {
    const pos = where((issue as { at?: PropertyKey[] }).at ?? issue.path);
    return { path: formatPath(issue.path), message: issue.message, ...(pos ? { line: pos.line, column: pos.column } : {}) };
  });
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { ok: false, problems };
}

export function formatProblems(problems: readonly ConfigProblem[], file = 'config'): string {
  return problems.map((p) => `${file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.path}: ${p.message}`).join('\n');
}

/** Like parseConfigText, but throws an ArmoryError that lists every problem. */
export function parseConfigOrThrow(text: string, file = 'config'): ArmoryConfig {
  const r = parseConfigText(text);
  if (r.ok) return r.config;
  throw new ArmoryError('CONFIG_E_INVALID', `${file} is not a valid configuration:\n${formatProblems(r.problems, file)}`, {
    problems: r.problems,
  });
}

/** YAML out, for export. */
export function configToYaml(config: unknown): string {
  return stringify(config, { lineWidth: 0 });
}
