import type { ArmoryConfig } from '../../common/config/document.js';
import type { ServiceConfig } from '../../common/config/service.js';

/** A configuration as loaded: the document, the text it came from (to tell changes), its version. */
export interface LoadedConfig {
  config: ArmoryConfig;
  text: string;
  version: string;
}

/**
 * Where an agent's desired state comes from: a local YAML file (a standalone agent) or the
 * configurations its manager signed and pushed (an enrolled agent). Both throw a coded
 * ArmoryError that lists every problem when what they hold cannot be used.
 */
export interface ConfigSource {
  readonly description: string;
  load(): LoadedConfig;
  /** The services of the document that this node runs. */
  select(config: ArmoryConfig): Record<string, ServiceConfig>;
  /** Calls back when the source changed on its own (an edited file); returns how to stop. */
  watch(onChange: () => void): { close(): Promise<void> };
}
