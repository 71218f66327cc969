import type { ArmoryConfig } from '../../common/config/document.js';
import { servicesForNode } from '../../common/config/placement.js';
import type { ServiceConfig } from '../../common/config/service.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { DurableFile, type StoreRecovery } from '../../common/node/durable-file.js';
import { signedConfigSchema, type SignedConfig } from '../../common/wire/signed-config.js';
import { verifySignedConfig, type VerifiedConfig } from '../api/verify-config.js';
import type { ConfigSource, LoadedConfig } from './config-source.js';

const EMPTY: LoadedConfig = { config: { version: 1, nodes: {}, services: {}, groups: {}, jobs: {} }, text: '', version: 'none yet' };

/**
 * An enrolled agent's configuration: only what its manager signed. A pushed configuration is
 * verified (cluster CA, manager role, signature, newer version, valid document), persisted
 * atomically, and only then applied. The node runs the services whose placement names it.
 */
export class SignedConfigSource implements ConfigSource {
  private readonly store: DurableFile<SignedConfig>;
  private current: VerifiedConfig | null = null;

  constructor(
    file: string,
    private readonly caPem: string,
    readonly node: string,
    onRecovered: (info: StoreRecovery) => void,
  ) {
    this.store = new DurableFile(file, signedConfigSchema, { onRecovered });
  }

  get description(): string {
    return `signed by the manager (${this.version})`;
  }

  get version(): string {
    return this.current ? `v${this.current.payload.version}` : 'none yet';
  }

  get versionNumber(): number {
    return this.current?.payload.version ?? 0;
  }

  /** Reads the persisted configuration once at start; it was verified before it was written. */
  async open(): Promise<void> {
    const stored = await this.store.read();
    this.current = stored ? verifySignedConfig(stored, this.caPem, 0) : null;
  }

  load(): LoadedConfig {
    if (!this.current) return EMPTY;
    return { config: this.current.config, text: this.current.envelope.payload, version: this.version };
  }

  /** Verifies and persists a pushed configuration; the caller then reloads. */
  async accept(raw: unknown): Promise<VerifiedConfig> {
    const verified = verifySignedConfig(raw, this.caPem, this.versionNumber);
    try {
      await this.store.write(verified.envelope);
    } catch (e) {
      throw new ArmoryError('STORE_E_IO', `cannot persist configuration v${verified.payload.version}: ${(e as Error).message}`);
    }
    this.current = verified;
    return verified;
  }

  select(config: ArmoryConfig): Record<string, ServiceConfig> {
    return servicesForNode(config, this.node);
  }

  watch(): { close(): Promise<void> } {
    return { close: async () => undefined };
  }
}
