import { closeEvmDriver, createEvmDriver } from './evm-driver';
import { describeLedgerScenarios } from './table';

describeLedgerScenarios(createEvmDriver, closeEvmDriver, 'cash contracts (Solidity on anvil)');
