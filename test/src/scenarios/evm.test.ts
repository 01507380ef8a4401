import { closeEvmDriver, createEvmDriver } from './evm-driver';
import { describeLedgerScenarios } from './run';

describeLedgerScenarios(createEvmDriver, closeEvmDriver, 'cash contracts (Solidity on anvil)');
