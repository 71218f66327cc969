import { z } from 'zod';
import { name } from '../config/names.js';

/** Pieces shared by the bridge domains. */
export const nodeName = name('node');
export const serviceName = name('service');
export const noParams = z.strictObject({}).optional();
export const done = z.strictObject({ message: z.string() });
export const serviceRef = z.strictObject({ node: nodeName, name: serviceName });

/** One thing wrong with a configuration or a form, at a field path like `restart.budget.window`. */
export const problemSchema = z.strictObject({
  path: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});
export type Problem = z.output<typeof problemSchema>;
