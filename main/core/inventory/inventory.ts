import { randomBytes } from 'node:crypto';
import { Low } from 'lowdb';
import { DurableFile, type StoreRecovery } from '../../../common/node/durable-file.js';
import { defaultNotifications } from '../notifications/stored-settings.js';
import { inventorySchema, type InventoryDoc } from './inventory-schema.js';

/**
 * The manager's inventory: nodes, configuration versions, notification settings. A lowdb document
 * over the durable store: every change is atomic and fsynced, and a corrupt file falls back to the
 * last good copy (reported through onRecovered), never to an empty inventory.
 */
export class Inventory {
  private readonly db: Low<InventoryDoc>;

  constructor(file: string, onRecovered: (info: StoreRecovery) => void) {
    this.db = new Low<InventoryDoc>(new DurableFile(file, inventorySchema, { onRecovered }), Inventory.empty(''));
  }

  static empty(cluster: string): InventoryDoc {
    return { format: 1, cluster, nodes: {}, configVersions: [], notifications: defaultNotifications(), app: { closeToTray: true, startAtLogin: false } };
  }

  async load(): Promise<InventoryDoc> {
    await this.db.read();
    if (this.db.data.cluster === '') this.db.data = Inventory.empty(`c${randomBytes(4).toString('hex')}`);
    return this.db.data;
  }

  get data(): InventoryDoc {
    return this.db.data;
  }

  /** Applies a change and makes it durable before resolving. */
  async update(change: (doc: InventoryDoc) => void): Promise<void> {
    change(this.db.data);
    await this.db.write();
  }
}
