/**
 * Import first in test entry points: the shim and contract-api loggers read their level when
 * first loaded and log every decorator and every rejected transaction at info/error level.
 * CRITICAL keeps test output readable; set CORE_CHAINCODE_LOGGING_LEVEL to see everything.
 */
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'CRITICAL';

export {};
