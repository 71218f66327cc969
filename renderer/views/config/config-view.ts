import { button, clear, h } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';

/** Configuration import and export as YAML, with the diff (and every problem) shown before anything is applied. */
export function configView(ctx: ViewContext): View {
  const version = h('p', { testid: 'config-version' });
  const text = h('textarea', { id: 'config-yaml', class: 'code', rows: 20, spellcheck: 'false', testid: 'config-yaml' });
  const file = h('input', { type: 'file', accept: '.yaml,.yml,text/yaml', id: 'config-file', testid: 'config-file' });
  const preview = h('div', { testid: 'config-preview', 'aria-live': 'polite' });
  let previewed: string | null = null;
  // Whether the text holds the user's own edits: the configuration in force, when it arrives, must
  // not wipe them (its answer can come after the user started typing); Reload replaces them.
  let edited = false;
  const apply = button('Apply', 'config-apply', async () => {
    if (previewed !== text.value) return;
    apply.disabled = true;
    try {
      const r = await ctx.bridge.config.apply({ yaml: text.value });
      clear(preview, h('p', { testid: 'config-applied' }, `Applied as v${r.version}. `, r.pushed.map((p) => `${p.node}: ${p.ok ? 'ok' : `not delivered (${p.message})`}`).join('; ')));
      previewed = null;
      edited = false;
      await load();
    } catch (e) {
      clear(preview, h('p', { class: 'error' }, errorText(e)));
    }
  });
  apply.disabled = true;
  const load = (replace = false) =>
    ctx.bridge.config.get().then((c) => {
      if (replace || !edited) {
        text.value = c.yaml;
        edited = false;
      }
      const inForce = c.version === null ? 'No configuration applied yet: write one here, or create a service on the Services screen.' : `Configuration v${c.version} is in force.`;
      version.textContent = edited ? `${inForce} Your edits are kept (Reload shows the configuration in force).` : inForce;
    }, ctx.reportError);
  const changed = () => {
    edited = true;
    apply.disabled = true;
    previewed = null;
  };
  text.addEventListener('input', changed);
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f)
      void f.text().then((t) => {
        text.value = t;
        changed();
      });
  });
  const doPreview = button('Preview changes', 'config-preview-button', async () => {
    const yaml = text.value;
    try {
      const p = await ctx.bridge.config.preview({ yaml });
      clear(
        preview,
        p.ok ? h('p', { testid: 'config-preview-ok' }, p.diff && p.diff.added.length + p.diff.removed.length + p.diff.changed.length + p.diff.nodesAdded.length + p.diff.nodesRemoved.length === 0 ? 'No change.' : 'Valid. Changes:') : h('p', { class: 'error', testid: 'config-preview-invalid' }, 'Not valid: nothing can be applied until these are fixed.'),
        p.problems.length > 0 ? h('ul', { class: 'problems', testid: 'config-problems' }, p.problems.map((x) => h('li', {}, `${x.line !== undefined ? `line ${x.line}: ` : ''}${x.path}: ${x.message}`))) : null,
        p.diff ? h('ul', { class: 'summary' }, [...p.diff.added.map((n) => `+ service ${n}`), ...p.diff.removed.map((n) => `- service ${n}`), ...p.diff.changed.map((n) => `~ service ${n}`), ...p.diff.nodesAdded.map((n) => `+ node ${n}`), ...p.diff.nodesRemoved.map((n) => `- node ${n}`)].map((l) => h('li', {}, l))) : null,
        p.warnings.map((w) => h('p', { class: 'warning' }, w)),
        h('pre', { class: 'diff', testid: 'config-diff', tabindex: 0, 'aria-label': 'Line changes' }, p.lines.filter((l) => !l.startsWith(' ')).length === 0 ? '(no line changes)' : p.lines.map((l) => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'same' }, `${l}\n`))),
      );
      previewed = p.ok ? yaml : null;
      apply.disabled = !p.ok;
    } catch (e) {
      clear(preview, h('p', { class: 'error' }, errorText(e)));
    }
  });
  const exportButton = button('Export (download YAML)', 'config-export', () => {
    const url = URL.createObjectURL(new Blob([text.value], { type: 'text/yaml' }));
    const a = h('a', { href: url, download: 'armory.yaml' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  const el = h(
    'section',
    { class: 'view', testid: 'view-config', 'aria-labelledby': 'config-title' },
    h('h1', { id: 'config-title' }, 'Configuration'),
    version,
    h('div', { class: 'toolbar' }, h('label', { for: 'config-file' }, 'Import a YAML file '), file, exportButton, button('Reload', 'config-reload', () => void load(true))),
    h('label', { for: 'config-yaml' }, 'The whole configuration as YAML'),
    text,
    h('div', { class: 'actions' }, doPreview, apply),
    preview,
  );
  void load();
  return { el, dispose: () => undefined };
}
