import fs from 'node:fs';
import { watch } from 'chokidar';
import type { ArmoryConfig } from '../../common/config/document.js';
import { formatProblems, parseConfigText } from '../../common/config/load.js';
import type { ServiceConfig } from '../../common/config/service.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { ConfigSource, LoadedConfig } from './config-source.js';

/** A standalone agent's configuration: a YAML file it watches; every service in it runs here. */
export class FileConfigSource implements ConfigSource {
  constructor(readonly file: string) {}

  get description(): string {
    return this.file;
  }

  load(): LoadedConfig {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new ArmoryError('CONFIG_E_UNREADABLE', `cannot read ${this.file}: ${(e as Error).message}`);
    }
    return FileConfigSource.parse(text, this.file);
  }

  static parse(text: string, file: string): LoadedConfig {
    const r = parseConfigText(text);
    if (!r.ok) {
      throw new ArmoryError('CONFIG_E_INVALID', `${file} was refused:\n${formatProblems(r.problems, file)}`, { problems: r.problems });
    }
    return { config: r.config, text, version: `file v${r.config.version}` };
  }

  select(config: ArmoryConfig): Record<string, ServiceConfig> {
    return config.services;
  }

  watch(onChange: () => void): { close(): Promise<void> } {
    let timer: NodeJS.Timeout | null = null;
    const watcher = watch(this.file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 } });
    watcher.on('all', (kind) => {
      if (kind !== 'change' && kind !== 'add') return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, 50);
    });
    return { close: () => watcher.close() };
  }
}
