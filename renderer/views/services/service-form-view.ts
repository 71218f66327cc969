import type { Problem } from '../../../common/bridge/common.js';
import { button, clear, field, h } from '../../components/dom.js';
import { errorText, type View, type ViewContext } from '../../view.js';
import { SchemaForm, type JsonSchema } from './schema-form.js';

/** The service part of the configuration's JSON Schema. */
export function serviceSchemaOf(document: Record<string, unknown>): JsonSchema {
  const services = (document as JsonSchema).properties?.services;
  return (services?.additionalProperties as JsonSchema | undefined) ?? { type: 'object', properties: {} };
}

/**
 * Create or edit a service: a form generated from the configuration schema, checked by the real
 * validator on the host as the user types (errors at their field), applied only when valid.
 */
export function serviceFormView(ctx: ViewContext, editing: string | null): View {
  const el = h('section', { class: 'view', testid: 'view-service-form', 'aria-labelledby': 'service-form-title' }, h('h1', { id: 'service-form-title' }, editing ? `Edit service ${editing}` : 'New service'), h('p', { class: 'loading' }, 'Loading the configuration schema…'));
  let disposed = false;
  let timer = 0;
  let checkSeq = 0;

  void Promise.all([ctx.bridge.config.schema(), ctx.bridge.config.get()]).then(([schema, current]) => {
    if (disposed) return;
    const nameInput = h('input', { type: 'text', testid: 'field-name', value: editing ?? '', autocomplete: 'off', spellcheck: 'false', required: true });
    const nameField = field('Name (required)', nameInput, "The service's name: 1-63 characters of a-z, 0-9, '.', '_' or '-'. It names its logs and events.", { path: 'name', testid: 'field-box-name' });
    const formErrors = h('div', { class: 'form-errors', role: 'alert', testid: 'form-errors' });
    const result = h('div', { class: 'form-result', role: 'status', testid: 'form-result' });
    const validate = async (): Promise<boolean> => {
      const seq = ++checkSeq;
      const r = await ctx.bridge.config.validateService({ name: nameInput.value.trim(), service: form.value() });
      if (seq !== checkSeq || disposed) return r.ok;
      show(r.problems);
      return r.ok;
    };
    const show = (problems: readonly Problem[]) => {
      const nameProblems = problems.filter((p) => p.path === 'name');
      nameField.classList.toggle('invalid', nameProblems.length > 0);
      nameInput.toggleAttribute('aria-invalid', nameProblems.length > 0);
      (nameField.querySelector('.error') as HTMLElement).textContent = nameProblems.map((p) => p.message).join(' ');
      const rest = form.showProblems(problems.filter((p) => p.path !== 'name'));
      clear(formErrors, rest.length > 0 ? h('ul', {}, rest.map((p) => h('li', {}, `${p.path || 'service'}: ${p.message}`))) : null);
    };
    const changed = () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => void validate().catch(ctx.reportError), 300);
    };
    const form = new SchemaForm(serviceSchemaOf(schema.document), changed, ['restart']);
    nameInput.addEventListener('input', changed);
    const services = (current.raw.services ?? {}) as Record<string, Record<string, unknown>>;
    if (editing && services[editing]) form.fill(services[editing]);
    const save = button('Save and apply', 'service-save', async () => {
      save.disabled = true;
      clearTimeout(timer);
      clear(result, 'Checking and applying…');
      try {
        const name = nameInput.value.trim();
        const r = await ctx.bridge.config.saveService({ name, service: form.value(), ...(editing && editing !== name ? { previous: editing } : {}) });
        const failed = r.pushed.filter((p) => !p.ok);
        clear(result, `Applied as configuration v${r.version ?? '?'}.`, failed.length > 0 ? ` Not delivered to: ${failed.map((p) => `${p.node} (${p.message})`).join(', ')}.` : '', ...r.warnings.map((w) => h('p', { class: 'warning' }, w)));
        ctx.navigate(`services/${name}`);
      } catch (e) {
        const problems = (e as { context?: { problems?: Problem[] } }).context?.problems;
        if (problems) {
          show(problems);
          clear(result, 'Not applied: fix the fields marked below.');
          form.focusFirstInvalid();
        } else clear(result, `Not applied: ${errorText(e)}`);
      } finally {
        save.disabled = false;
      }
    });
    clear(
      el,
      h('h1', { id: 'service-form-title' }, editing ? `Edit service ${editing}` : 'New service'),
      h('p', { class: 'help' }, 'Empty fields take the default shown in them. Changes are checked as you type and applied to every node when you save.'),
      h('form', { class: 'service-form', testid: 'service-form', novalidate: true, onSubmit: (e: Event) => e.preventDefault() }, nameField, form.el, formErrors, h('div', { class: 'actions' }, save, button('Cancel', 'service-cancel', () => ctx.navigate(editing ? `services/${editing}` : 'services'))), result),
    );
    nameInput.focus();
  }, (e: unknown) => clear(el, h('p', { class: 'error' }, `The form cannot be built: ${errorText(e)}`)));
  return {
    el,
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
