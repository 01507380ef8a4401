/**
 * The shared network's Fabric part for cross-ledger tests. Tests that need a real peer are
 * declared with {@link describeOnFabric}: where network-up found no Fabric binaries they are
 * reported as skipped (counted in `make test`'s closing line), never as passed or failed.
 */
import { describe } from '@jest/globals';
import type { FabricUpState, NetworkState } from '../../network/src/state';
import { sharedNetwork } from './network';

/** The Fabric state of the shared network, or why there is none. */
export function sharedFabric(): { readonly up: FabricUpState } | { readonly reason: string } {
  let net: NetworkState;
  try {
    net = sharedNetwork();
  } catch (err) {
    return { reason: (err as Error).message };
  }
  return net.fabric.status === 'up' ? { up: net.fabric } : { reason: net.fabric.reason };
}

/** The running Fabric network; throws when there is none (use inside {@link describeOnFabric}). */
export function fabricUp(): FabricUpState {
  const f = sharedFabric();
  if ('reason' in f) throw new Error(`Fabric is not running: ${f.reason}`);
  return f.up;
}

/** `describe` when Fabric runs, else `describe.skip` (every test in it counts as skipped). */
export function describeOnFabric(name: string, body: () => void): void {
  const f = sharedFabric();
  if ('up' in f) describe(name, body);
  else describe.skip(`${name} [skipped: no Fabric peer: ${f.reason}]`, body);
}
