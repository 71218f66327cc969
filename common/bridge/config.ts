import { z } from 'zod';
import { noParams, problemSchema, serviceName } from './common.js';
import { domain } from './domain.js';

/** What applying a configuration changes, by service and node name. */
export const configDiffSchema = z.strictObject({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  nodesAdded: z.array(z.string()),
  nodesRemoved: z.array(z.string()),
});
export type ConfigDiffView = z.output<typeof configDiffSchema>;

export const previewSchema = z.strictObject({
  ok: z.boolean(),
  problems: z.array(problemSchema),
  diff: configDiffSchema.nullable(),
  /** Line diff of the YAML documents (`+`/`-`/` ` prefixed lines). */
  lines: z.array(z.string()),
  warnings: z.array(z.string()),
});
export type PreviewView = z.output<typeof previewSchema>;

export const applyResultSchema = z.strictObject({
  version: z.number().int().nullable(),
  diff: configDiffSchema,
  pushed: z.array(z.strictObject({ node: z.string(), ok: z.boolean(), message: z.string() })),
  warnings: z.array(z.string()),
});
export type ApplyResultView = z.output<typeof applyResultSchema>;

const yamlText = z.string().max(4 * 1024 * 1024);

export const configDomain = domain(
  {
    /**
     * The current configuration: its version, the YAML text, the document as written (`raw`, what an
     * edit form starts from) and as validated (`document`, defaults filled in, durations in ms).
     */
    get: {
      params: noParams,
      result: z.strictObject({ version: z.number().int().nullable(), yaml: z.string(), raw: z.record(z.string(), z.unknown()), document: z.record(z.string(), z.unknown()) }),
    },
    /**
     * JSON Schema of the configuration document (zod's toJSONSchema, `description` = help text,
     * `default` = default): the renderer builds its forms from it without importing zod.
     */
    schema: { params: noParams, result: z.strictObject({ document: z.record(z.string(), z.unknown()) }) },
    /** Checks one service entry with the real validator, in the context of the current document. */
    validateService: { params: z.strictObject({ name: z.string().max(63), service: z.unknown() }), result: z.strictObject({ ok: z.boolean(), problems: z.array(problemSchema) }) },
    /** Adds or replaces one service (renaming when `previous` names it) and applies the result. */
    saveService: { params: z.strictObject({ name: serviceName, service: z.unknown(), previous: serviceName.optional() }), result: applyResultSchema },
    removeService: { params: z.strictObject({ name: serviceName }), result: applyResultSchema },
    /** Validates a YAML document and shows what it would change: nothing is applied. */
    preview: { params: z.strictObject({ yaml: yamlText }), result: previewSchema },
    apply: { params: z.strictObject({ yaml: yamlText }), result: applyResultSchema },
  },
  {
    /** A new configuration version was applied. */
    applied: z.strictObject({ version: z.number().int() }),
  },
);
