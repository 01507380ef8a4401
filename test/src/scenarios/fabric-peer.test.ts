import { afterAll } from '@jest/globals';
import { describeOnFabric } from '../fabric';
import { sharedNetwork } from '../network';
import { FABRIC_PEER_SCHEDULE, openFabricScenarioPeers, type FabricScenarioPeers } from './fabric-peer-driver';
import { describeLedgerScenarios } from './run';

describeOnFabric('securities chaincode on the real peers', () => {
  let peers: Promise<FabricScenarioPeers> | undefined;
  afterAll(async () => (await peers?.catch(() => undefined))?.close());

  describeLedgerScenarios(
    async () => (await (peers ??= openFabricScenarioPeers(sharedNetwork()))).driver(),
    undefined,
    'securities chaincode (real Fabric peers, both banks endorsing, scenarios side by side)',
    FABRIC_PEER_SCHEDULE,
  );
});
