import fs from 'node:fs';
import { Document, isMap, parse as parseYaml, parseDocument } from 'yaml';
import { z } from 'zod';
import type { BridgeDomains } from '../../../common/bridge/contract.js';
import type { Problem } from '../../../common/bridge/common.js';
import { configSchema, type ArmoryConfig } from '../../../common/config/document.js';
import { NAME_PATTERN } from '../../../common/config/names.js';
import { parseConfigText } from '../../../common/config/load.js';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import type { Manager } from '../../core/manager.js';
import type { DomainHandlers } from '../bridge-host.js';
import type { HostContext } from '../host-context.js';
import { lineDiff } from '../line-diff.js';

/** The configuration in force: its version, its YAML text and the parsed document (defaults filled in). */
export function currentConfig(manager: Manager): { version: number | null; yaml: string; config: ArmoryConfig } {
  const v = manager.inventory.data.configVersions.at(-1);
  if (!v) return { version: null, yaml: '', config: configSchema.parse({}) };
  const yaml = fs.readFileSync(v.file, 'utf8');
  const parsed = parseConfigText(yaml);
  return { version: v.version, yaml, config: parsed.ok ? parsed.config : configSchema.parse({}) };
}

/** The current YAML with one service set (or renamed, or removed), keeping the rest as written. */
function withService(yaml: string, name: string, service: unknown, previous?: string): string {
  const doc = yaml.trim() === '' ? new Document({}) : parseDocument(yaml);
  if (previous !== undefined && previous !== name) doc.deleteIn(['services', previous]);
  if (service === undefined) doc.deleteIn(['services', name]);
  else {
    if (!isMap(doc.get('services', true))) doc.set('services', doc.createNode({}));
    doc.setIn(['services', name], doc.createNode(service));
  }
  return doc.toString({ lineWidth: 0 });
}

/** The problems of one service in a whole document, with paths relative to the service (`restart.policy`). */
function serviceProblems(name: string, yaml: string, key = name): Problem[] {
  const problems: Problem[] = [];
  if (!NAME_PATTERN.test(name)) problems.push({ path: 'name', message: "a service name is 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit" });
  const r = parseConfigText(yaml);
  if (r.ok) return problems;
  const prefix = `services.${key}`;
  for (const p of r.problems) {
    if (p.path === prefix) problems.push({ path: '', message: p.message });
    else if (p.path.startsWith(`${prefix}.`) || p.path.startsWith(`${prefix}[`)) problems.push({ path: p.path.slice(prefix.length).replace(/^\./, ''), message: p.message });
    else problems.push({ path: `(document) ${p.path}`, message: p.message });
  }
  return problems;
}

function invalid(problems: Problem[]): ArmoryError {
  return new ArmoryError('CONFIG_E_INVALID', `the service is not valid: ${problems.map((p) => `${p.path || '(service)'}: ${p.message}`).join('; ')}`, { problems });
}

export function configHandlers(ctx: HostContext): DomainHandlers<BridgeDomains['config']> {
  const m = ctx.manager;
  const applied = async (yaml: string) => {
    const r = await m.apply(yaml);
    if (r.version !== null) ctx.emit('config', 'applied', { version: r.version });
    return r;
  };
  let jsonSchema: Record<string, unknown> | null = null;
  return {
    get: async () => {
      const c = currentConfig(m);
      let raw: unknown = {};
      try {
        raw = parseYaml(c.yaml) ?? {};
      } catch {
        raw = {};
      }
      return { version: c.version, yaml: c.yaml, raw: typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {}, document: c.config as unknown as Record<string, unknown> };
    },
    schema: async () => ({ document: (jsonSchema ??= z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>) }),
    validateService: async ({ name, service }) => {
      // A name that is not valid yet is checked on its own; the entry is checked under a stand-in.
      const key = NAME_PATTERN.test(name) ? name : 'unnamed';
      const problems = serviceProblems(name, withService(currentConfig(m).yaml, key, service), key);
      return { ok: problems.length === 0, problems };
    },
    saveService: async ({ name, service, previous }) => {
      const yaml = withService(currentConfig(m).yaml, name, service, previous);
      const problems = serviceProblems(name, yaml);
      if (problems.length > 0) throw invalid(problems);
      return applied(yaml);
    },
    removeService: async ({ name }) => {
      const current = currentConfig(m);
      if (!(name in current.config.services)) throw new ArmoryError('CONFIG_E_INVALID', `there is no service named ${name}`);
      return applied(withService(current.yaml, name, undefined));
    },
    preview: async ({ yaml }) => {
      const current = currentConfig(m);
      const lines = lineDiff(current.yaml, yaml);
      const parsed = parseConfigText(yaml);
      if (!parsed.ok) return { ok: false, problems: parsed.problems, diff: null, lines, warnings: [] };
      const dry = await m.apply(yaml, { dryRun: true });
      return { ok: true, problems: [], diff: dry.diff, lines, warnings: dry.warnings };
    },
    apply: ({ yaml }) => applied(yaml),
  };
}
