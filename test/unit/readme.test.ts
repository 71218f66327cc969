import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReferenceMarkdown } from '../../common/config/reference.js';

const README = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('opens with the two commands that work on a fresh machine', () => {
    const head = README.slice(0, 1200);
    expect(head).toContain('npm ci && npm start');
    expect(head).toContain('npm ci && npm test');
  });

  it('carries the configuration reference generated from the schema (run `npm run docs` after changing it)', () => {
    const start = README.indexOf('<!-- config-reference:start');
    const body = README.slice(README.indexOf('\n', start) + 1, README.indexOf('<!-- config-reference:end -->'));
    expect(body.trim()).toBe(configReferenceMarkdown().trim());
  });
});
