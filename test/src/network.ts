/**
 * Access to the shared local network for cross-ledger tests. `make test` brings it up once before
 * jest starts and down after; run `make network-up` first when running these tests by hand.
 */
import { networkPaths, readState, type NetworkState } from '../../network/src/state';

export function sharedNetwork(): NetworkState {
  const { stateFile } = networkPaths();
  const state = readState(stateFile);
  if (!state)
    throw new Error(`no network state at ${stateFile}: run "make network-up" first (make test does it for you)`);
  return state;
}
