/**
 * Error mapping and wire encodings of the Fabric connector: chaincode codes as the chaincode
 * itself formats them, fabric-gateway error classes, the real chaincode's rejections through the
 * fake gateway, and the protobuf messages the connector builds and reads, checked against
 * fabric-gateway and fabric-protos.
 */
import { createHash, randomBytes } from 'node:crypto';
import { credentials, Client, Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { connect, EndorseError, GatewayError, hash, type Gateway } from '@hyperledger/fabric-gateway';
import { common, gateway as gw, msp } from '@hyperledger/fabric-protos';
import {
  ChaincodeError,
  ERROR_CODES,
  parseChaincodeError,
  type ErrorCode,
} from '../../../../chaincode/fabric/src/errors';
import { LedgerError, type LedgerErrorCode } from '../errors';
import type { FabricGateway } from './connector';
import { FABRIC_ERROR_CODES, parseFabricChaincodeError, toFabricLedgerError } from './errors';
import { chainHeight, commitStatusRequestBytes } from './wire';
import { enroll } from './__tests__/fake-ids';
import { fabricConnector, fabricLockRequest, makeFabricWorld, type FabricWorld } from './__tests__/fixture';
import { caught } from '../__tests__/caught';

// Does not compile when the chaincode gains a code that is not mapped.
const EXHAUSTIVE: Readonly<Record<ErrorCode, LedgerErrorCode>> = FABRIC_ERROR_CODES;

function grpcError(code: grpcStatus, details: string): Error & { code: number; details: string; metadata: Metadata } {
  return Object.assign(new Error(`${code} ${grpcStatus[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

function gatewayError(code: grpcStatus, details: string): GatewayError {
  const cause = grpcError(code, details);
  return new GatewayError({ code, details: [], cause, message: cause.message });
}

describe('Fabric errors', () => {
  describe('parseFabricChaincodeError', () => {
    it('maps every chaincode code, and only those', () => {
      expect(Object.keys(EXHAUSTIVE).sort()).toEqual([...ERROR_CODES].sort());
    });

    it.each([...ERROR_CODES])('reads %s from the chaincode message as a peer wraps it', (code) => {
      const wrapped = `chaincode response 500, ${new ChaincodeError(code, 'some text', { lockId: 'L1', needed: 5 }).message}`;
      expect(parseFabricChaincodeError(wrapped)).toEqual({
        code,
        text: 'some text',
        data: { lockId: 'L1', needed: '5' },
      });
      expect(parseChaincodeError(wrapped)?.code).toBe(code);
    });

    it('finds nothing in a message without a chaincode code', () => {
      expect(parseFabricChaincodeError('Expected 2 parameters, but 1 have been supplied')).toBeUndefined();
    });
  });

  describe('toFabricLedgerError', () => {
    it('takes the code and context from the peer details of an EndorseError, keeping the cause', () => {
      const message = new ChaincodeError('LOCK_EXPIRED', 'lock L9 expired', { expiry: 10, lockId: 'L9' }).message;
      const cause = grpcError(grpcStatus.ABORTED, 'failed to endorse transaction, see attached details for more info');
      const details = [{ address: 'peer0:7051', mspId: 'P', message: `chaincode response 500, ${message}` }];
      const err = new EndorseError({ code: cause.code, details, cause, transactionId: 'tx1', message: cause.message });
      const mapped = toFabricLedgerError(err, 'ClaimHTLC', { txId: 'tx1' });
      expect(mapped).toMatchObject({
        code: 'LOCK_EXPIRED',
        ledger: 'fabric',
        context: { txId: 'tx1', lockId: 'L9', expiry: '10', errorName: 'LOCK_EXPIRED' },
      });
      expect(mapped.cause).toBe(err);
    });

    it.each([
      [grpcStatus.UNAVAILABLE, 'UNAVAILABLE'],
      [grpcStatus.DEADLINE_EXCEEDED, 'UNAVAILABLE'],
      [grpcStatus.ABORTED, 'REVERTED'],
      [grpcStatus.FAILED_PRECONDITION, 'REVERTED'],
      [grpcStatus.PERMISSION_DENIED, 'NOT_AUTHORIZED'],
    ] as const)('maps a gateway error of gRPC status %s without a chaincode code to %s', (code, expected) => {
      expect(toFabricLedgerError(gatewayError(code, 'no code here'), 'x', {}).code).toBe(expected);
    });

    it.each([
      [
        grpcStatus.FAILED_PRECONDITION,
        'error validating proposal: access denied: channel [c] creator org [SellerBankMSP]',
        'NOT_AUTHORIZED',
      ],
      [
        grpcStatus.FAILED_PRECONDITION,
        'access denied: channel [c] creator org unknown, creator is malformed',
        'NOT_AUTHORIZED',
      ],
      [
        grpcStatus.ABORTED,
        'failed to endorse transaction: access denied: channel [c] creator org [X]',
        'NOT_AUTHORIZED',
      ],
      [grpcStatus.ABORTED, 'failed to collect enough transaction endorsements', 'UNAVAILABLE'],
      [grpcStatus.ABORTED, 'no peers available to evaluate chaincode securities in channel c', 'UNAVAILABLE'],
    ] as const)('maps gRPC status %s saying "%s" to %s', (code, message, expected) => {
      expect(toFabricLedgerError(gatewayError(code, message), 'x', {}).code).toBe(expected);
    });

    it('treats an error that is not from the gateway as UNAVAILABLE and passes LedgerErrors through', () => {
      expect(toFabricLedgerError(new Error('socket hang up'), 'x', {}).code).toBe('UNAVAILABLE');
      const own = new LedgerError('MISMATCH', 'fabric', 'other terms');
      expect(toFabricLedgerError(own, 'x', {})).toBe(own);
    });
  });

  describe('rejections of the real chaincode through the fake gateway', () => {
    let w: FabricWorld;
    beforeAll(async () => (w = await makeFabricWorld(1_000n)), 30_000);

    it('maps insufficient balance, bad ISIN, bad preimage, expiry and authorization', async () => {
      const seller = fabricConnector(w, undefined);
      expect(await caught(seller.lock(fabricLockRequest(w, 5_000n)))).toMatchObject({
        code: 'INSUFFICIENT_BALANCE',
        context: { balance: '1000', needed: '5000', errorName: 'INSUFFICIENT_BALANCE' },
      });
      const badIsin = { ...fabricLockRequest(w, 1n), asset: 'US0378331006' };
      expect(await caught(seller.lock(badIsin))).toMatchObject({ code: 'INVALID_ARGUMENT' });

      const req = fabricLockRequest(w, 10n, 60);
      await seller.lock(req);
      expect(await caught(seller.claim(req.lockId, randomBytes(32).toString('hex')))).toMatchObject({
        code: 'BAD_PREIMAGE',
      });
      expect(await caught(seller.claim(req.lockId, '0x1234'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await caught(seller.claim('L-unknown', req.preimage))).toMatchObject({ code: 'NOT_FOUND' });
      w.ledger.time = req.expiry;
      expect(await caught(seller.claim(req.lockId, req.preimage))).toMatchObject({ code: 'LOCK_EXPIRED' });

      const deposit = { tradeId: 'T', asset: req.asset, amount: 1n, expiry: w.ledger.time + 60 };
      const { escrowId } = await seller.deposit({
        ...deposit,
        beneficiary: w.buyer.account,
        controller: w.manager.account,
      });
      expect(await caught(fabricConnector(w, undefined, w.buyer).returnEscrow(escrowId))).toMatchObject({
        code: 'NOT_AUTHORIZED',
      });
    });
  });

  describe('wire encodings', () => {
    it('builds commit status requests that fabric-gateway and fabric-protos read back', async () => {
      const id = await enroll({ mspId: 'SellerBankMSP', cn: 'alice', ous: ['client', 'seller'] });
      const client = new Client('127.0.0.1:1', credentials.createInsecure());
      const real: Gateway = connect({ client, identity: id.identity, signer: id.signer, hash: hash.sha256 });
      const surface: FabricGateway = real; // a real Gateway is what the connector takes
      const txId = createHash('sha256').update('tx').digest('hex');
      const bytes = commitStatusRequestBytes(txId, 'dvp', id.identity);
      expect(surface.newCommit(bytes).getTransactionId()).toBe(txId);
      const request = gw.CommitStatusRequest.deserializeBinary(
        gw.SignedCommitStatusRequest.deserializeBinary(bytes).getRequest_asU8(),
      );
      const creator = msp.SerializedIdentity.deserializeBinary(request.getIdentity_asU8());
      expect([request.getChannelId(), creator.getMspid()]).toEqual(['dvp', 'SellerBankMSP']);
      expect(Buffer.from(creator.getIdBytes_asU8()).toString()).toBe(id.certPem);
      real.close();
      client.close();
    });

    it.each([0, 1, 300, 2 ** 40])('reads height %s from a BlockchainInfo', (height) => {
      const info = new common.BlockchainInfo();
      info.setHeight(height);
      info.setCurrentblockhash(randomBytes(32));
      info.setPreviousblockhash(randomBytes(32));
      expect(chainHeight(info.serializeBinary())).toBe(BigInt(height));
    });

    it('refuses a BlockchainInfo height that a JS number cannot hold exactly', () => {
      const info = new common.BlockchainInfo();
      info.setHeight(2 ** 60);
      expect(() => chainHeight(info.serializeBinary())).toThrow(/not exact/);
    });
  });
});
