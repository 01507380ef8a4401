import { createChaincodeDriver } from './chaincode-driver';
import { describeLedgerScenarios } from './run';

describeLedgerScenarios(createChaincodeDriver, undefined, 'securities chaincode (in-memory peer)');
