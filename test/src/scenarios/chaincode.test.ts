import { createChaincodeDriver } from './chaincode-driver';
import { describeLedgerScenarios } from './table';

describeLedgerScenarios(createChaincodeDriver, undefined, 'securities chaincode (in-memory peer)');
