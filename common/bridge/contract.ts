import type { BridgeDomain, DomainApi } from './domain.js';
import { configDomain } from './config.js';
import { drillDomain } from './drill.js';
import { eventsDomain } from './events.js';
import { groupsDomain } from './groups.js';
import { jobsDomain } from './jobs.js';
import { nodesDomain } from './nodes.js';
import { servicesDomain } from './services.js';
import { settingsDomain } from './settings.js';
import { wireName } from './wire-names.js';

/**
 * The GUI bridge contract: every domain the renderer can reach, by name. The Electron preload, the
 * bridge-host and the console's WebSocket port all derive from this one object. Adding a domain is
 * one entry here (and its import): `settings: settingsDomain`.
 */
export const bridgeDomains = Object.freeze({
  nodes: nodesDomain,
  services: servicesDomain,
  config: configDomain,
  events: eventsDomain,
  groups: groupsDomain,
  settings: settingsDomain,
  jobs: jobsDomain,
  drill: drillDomain,
} satisfies Record<string, BridgeDomain>);

export type BridgeDomains = typeof bridgeDomains;
export type DomainName = keyof BridgeDomains & string;

/** What the renderer sees as `window.armory`: `armory.services.restart({ node, name })`, `armory.events.onNotification(fn)`. */
export type ArmoryBridge = { readonly [D in DomainName]: DomainApi<BridgeDomains[D]> };

/** Every method and event of the contract by wire name, for hosts that serve or check them. */
export function contractEntries(domains: Readonly<Record<string, BridgeDomain>> = bridgeDomains) {
  const methods = new Map<string, BridgeDomain['methods'][string]>();
  const events = new Map<string, BridgeDomain['events'][string]>();
  for (const [d, def] of Object.entries(domains)) {
    for (const [m, c] of Object.entries(def.methods)) methods.set(wireName(d, m), c);
    for (const [e, s] of Object.entries(def.events)) events.set(wireName(d, e), s);
  }
  return { methods, events };
}
