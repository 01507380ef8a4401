/**
 * Who the real Fabric network lets do what (DESIGN.md §5 invariant 5, §6), on the peers network-up
 * started: roles carried by the bank CAs' enrollments and honoured by the chaincode's deployed
 * policy; a certificate revoked at its CA refused by the peers once the CA's CRL is in the
 * channel config; the access policy changed only with every governing org's admin; a certificate
 * no CA of the MSP issued refused; and the org's own users calling the chaincode with the `peer`
 * CLI.
 *
 * Shared state is left as other tests expect it: every identity that is refused or revoked is
 * registered afresh; the channel's SellerBankMSP definition gets the seller CA's own current CRL
 * (which lists only certificates that CA revoked); the access policy is restored through the same
 * two-admin approval. Each run fetches the current channel config and policy, so runs repeat on
 * the same network.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Contract } from '@hyperledger/fabric-gateway';
import {
  canonicalJson,
  certificateSerialAndAki,
  checkRevocation,
  connectCa,
  fabricAccountId,
  loadIdentity,
  parseCertificateClaims,
} from '@dvp/certs';
import { connectPeer, mspIdentity, type FabricClientIdentity } from '../../network/src/fabric-client';
import type { FabricUpState, NetworkState } from '../../network/src/state';
import { channelOrgMsp, publishCrlOnChannel } from './channel-crl';
import { describeOnFabric, fabricUp } from './fabric';
import { bankIdentity, freshIsin, registerClient, type TestFabricIdentity } from './fabric-clients';
import { chaincodeRefusal, peerLogReason, peerRefusal, selfSignedIdentity, untilRefused } from './fabric-refusals';
import { sharedNetwork } from './network';
import { CHAINCODE_CMD_LOGGING, chaincodeCall, invokeFlags, peer, peerEnv, writeMspFolder } from './peer-cli';

/** Registrations, a config update and two-round policy changes take a few seconds each. */
jest.setTimeout(60_000);

/** What the peer's endorser tells a client whose certificate its channel MSP rejects. */
const ACCESS_DENIED = 'error validating proposal: access denied: channel [settlement] creator org [SellerBankMSP]';
const MALFORMED =
  'error validating proposal: access denied: channel [settlement] creator org unknown, creator is malformed';
const EVALUATE_REFUSED = '9 FAILED_PRECONDITION: evaluate call to endorser returned error: ';
const ENDORSE_REFUSED = '10 ABORTED: failed to endorse transaction, see attached details for more info';

let net: NetworkState;
let fabric: FabricUpState;
let dir: string;
const connections: { close(): void }[] = [];

/** The chaincode as `id`, through the peer of `org` (default: the bank whose CA issued `id`). */
function contractOf(id: FabricClientIdentity & { readonly org?: string }, org = id.org): Contract {
  const peerState = fabric.peers[org ?? ''];
  if (peerState === undefined) throw new Error(`no peer for org ${String(org)}`);
  const conn = connectPeer(peerState, id);
  connections.push(conn);
  return conn.contract(fabric.channel, fabric.chaincode.name);
}

/** The org admin `Admin@<domain>` (the org's only MSP admin), from its MSP folder. */
function orgAdmin(org: string): FabricClientIdentity & { readonly org: string } {
  const m = net.fabricMsp.orgs[org];
  if (m === undefined) throw new Error(`no MSP for ${org}`);
  return { ...mspIdentity(m.mspId, m.admin.mspDir), org };
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const submitJson = async (c: Contract, fcn: string, ...args: string[]) =>
  JSON.parse(text(await c.submitTransaction(fcn, ...args))) as Record<string, unknown>;
const freshAccountId = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;
const notAuthorized = (transaction: string, mspId: string, roles: string) => ({
  code: 'NOT_AUTHORIZED',
  text: `no role of the caller may call ${transaction}`,
  data: { mspId, roles, transaction },
});

describeOnFabric('The Fabric network', () => {
  beforeAll(() => {
    net = sharedNetwork();
    fabric = fabricUp();
    dir = mkdtempSync(join(tmpdir(), 'dvp-fabric-network-'));
  });

  afterAll(() => {
    for (const conn of connections) conn.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('roles carried by the bank CAs’ enrollments', () => {
    const isin = freshIsin();

    it('lets a client enrolled with role issuer at the seller CA create an instrument', async () => {
      const issuer = await registerClient(net, 'seller', 'issuer', 'issuer');
      const instrument = await submitJson(contractOf(issuer), 'CreateInstrument', isin, `Test ${isin}`, '1');
      expect(instrument).toMatchObject({ isin, issuer: issuer.account, minSettlementUnit: '1', issued: '0' });
    });

    it('refuses CreateInstrument to a client enrolled with role issuer at the buyer CA (issuer is honoured from SellerBankMSP only)', async () => {
      const foreign = await registerClient(net, 'buyer', 'issuer', 'issuer');
      const refusal = await chaincodeRefusal(
        contractOf(foreign).submitTransaction('CreateInstrument', freshIsin(), 'x', '1'),
      );
      expect(refusal).toEqual(notAuthorized('CreateInstrument', 'BuyerBankMSP', 'buyer,client,issuer'));
    });

    it('refuses CreateInstrument to a plain client of the seller', async () => {
      const plain = await registerClient(net, 'seller', 'plain', 'trader');
      const refusal = await chaincodeRefusal(
        contractOf(plain).submitTransaction('CreateInstrument', freshIsin(), 'x', '1'),
      );
      expect(refusal).toEqual(notAuthorized('CreateInstrument', 'SellerBankMSP', 'client,seller,trader'));
    });

    it('lets a client enrolled with role auditor read SupplyBreakdown', async () => {
      const auditor = await registerClient(net, 'seller', 'auditor', 'auditor');
      const breakdown = JSON.parse(text(await contractOf(auditor).evaluateTransaction('SupplyBreakdown', isin)));
      expect(breakdown).toEqual({ escrowed: '0', free: '0', isin, locked: '0', supply: '0' });
    });

    it('refuses SupplyBreakdown to a plain client', async () => {
      const plain = await registerClient(net, 'buyer', 'plain', 'trader');
      const refusal = await chaincodeRefusal(contractOf(plain).evaluateTransaction('SupplyBreakdown', isin));
      expect(refusal).toEqual(notAuthorized('SupplyBreakdown', 'BuyerBankMSP', 'buyer,client,trader'));
    });
  });

  describe('a certificate revoked at the seller CA', () => {
    let revokee: TestFabricIdentity;
    let contract: Contract;

    beforeAll(async () => {
      revokee = await registerClient(net, 'seller', 'revokee', 'trader');
      contract = contractOf(revokee);
    });

    it('is accepted by the peer before it is revoked', async () => {
      const accountId = freshAccountId('rev');
      expect(await submitJson(contract, 'OpenAccount', accountId)).toMatchObject({ accountId, owner: revokee.account });
    });

    it('is refused by the peer once the CA’s new CRL is in SellerBankMSP’s channel MSP', async () => {
      const ca = net.fabricCa.orgs['seller'];
      if (ca === undefined) throw new Error('no seller CA');
      const client = connectCa({
        url: ca.url,
        tlsTrustedCert: readFileSync(ca.tlsCertFile, 'utf8'),
        caName: ca.caName,
      });
      const registrar = loadIdentity(ca.wallet, 'registrar');
      const enrollmentId = parseCertificateClaims(revokee.certPem).enrollmentId ?? '';
      const { revoked } = await client.revoke(registrar, { enrollmentId }, 'keycompromise');
      expect(revoked).toEqual([certificateSerialAndAki(revokee.certPem)]);
      const crl = await client.gencrl(registrar);
      expect((await checkRevocation(revokee.certPem, crl, readFileSync(ca.caCertFile, 'utf8'))).revoked).toBe(true);

      const published = await publishCrlOnChannel(net, 'seller', crl, dir);
      expect(published.changed).toBe(true);
      const { elapsedMs, refusal } = await untilRefused(() => contract.evaluateTransaction('GetPolicy'));
      console.log(
        `revocation: the seller's peer refused the revoked certificate ${elapsedMs} ms after "peer channel update" returned`,
      );
      expect(refusal).toEqual({
        kind: 'GatewayError',
        code: status.FAILED_PRECONDITION,
        message: `${EVALUATE_REFUSED}${ACCESS_DENIED}`,
        details: [{ address: fabric.peers['seller']?.address, mspId: 'SellerBankMSP', message: ACCESS_DENIED }],
        transactionId: undefined,
      });
      const after = await channelOrgMsp(net, 'seller', dir);
      expect(after.sequence).toBe(published.fromSequence + 1);
      expect(after.msp.getRevocationListList_asU8().map(text)).toEqual([crl]);
    });

    it('is refused on every further attempt, and the peer logs the revocation as the reason', async () => {
      for (const _attempt of [1, 2]) {
        const { transactionId, ...refusal } = await peerRefusal(
          contract.submitTransaction('OpenAccount', freshAccountId('rev')),
        );
        expect(refusal).toEqual({
          kind: 'EndorseError',
          code: status.ABORTED,
          message: ENDORSE_REFUSED,
          details: [{ address: fabric.peers['seller']?.address, mspId: 'SellerBankMSP', message: ACCESS_DENIED }],
        });
        expect(await peerLogReason(net, 'seller', transactionId ?? '')).toBe(
          'could not validate identity against certification chain: The certificate has been revoked',
        );
      }
    });

    it('is refused by the buyer’s peer too', async () => {
      const { refusal } = await untilRefused(() => contractOf(revokee, 'buyer').evaluateTransaction('GetPolicy'));
      expect(refusal.details).toEqual([
        { address: fabric.peers['buyer']?.address, mspId: 'BuyerBankMSP', message: ACCESS_DENIED },
      ]);
    });
  });

  describe('changing the access policy', () => {
    let seller: Contract;
    let buyer: Contract;
    let original: string;
    let proposed: string;
    let proposalId: string;

    /** Proposes `policy` as the seller's admin and approves it as the buyer's; returns the final proposal. */
    async function adopt(policy: string): Promise<Record<string, unknown>> {
      const { proposalId: id } = await submitJson(seller, 'ProposePolicy', policy);
      return submitJson(buyer, 'ApprovePolicy', String(id));
    }

    beforeAll(async () => {
      seller = contractOf(orgAdmin('seller'));
      buyer = contractOf(orgAdmin('buyer'));
      original = text(await seller.evaluateTransaction('GetPolicy'));
      const policy = JSON.parse(original) as { roles: Record<string, string[]> };
      const marker = `marker-${randomBytes(6).toString('hex')}`;
      proposed = canonicalJson({ ...policy, roles: { ...policy.roles, [marker]: ['GetPolicy'] } });
    });

    afterAll(async () => {
      // Whatever failed above, other tests must find the deployed policy in force.
      if (buyer !== undefined && text(await buyer.evaluateTransaction('GetPolicy')) !== original) await adopt(original);
    });

    it('leaves the policy in force unchanged when one governing org’s admin proposes', async () => {
      const admin = orgAdmin('seller');
      const proposal = await submitJson(seller, 'ProposePolicy', proposed);
      proposalId = String(proposal['proposalId']);
      expect(proposal).toMatchObject({
        policy: proposed,
        proposalId: createHash('sha256').update(proposed).digest('hex'),
        proposer: fabricAccountId(admin.mspId, admin.certPem),
        approvals: [expect.objectContaining({ mspId: 'SellerBankMSP' })],
        pending: ['BuyerBankMSP'],
        status: 'PENDING',
      });
      expect(text(await seller.evaluateTransaction('GetPolicy'))).toBe(original);
    });

    it('refuses ApprovePolicy to a client of the other governing org', async () => {
      const trader = bankIdentity(net, 'buyer', 'trader');
      const refusal = await chaincodeRefusal(contractOf(trader).submitTransaction('ApprovePolicy', proposalId));
      expect(refusal).toEqual(notAuthorized('ApprovePolicy', 'BuyerBankMSP', 'buyer,client,trader'));
    });

    it('adopts the policy once the other governing org’s admin approves', async () => {
      const proposal = await submitJson(buyer, 'ApprovePolicy', proposalId);
      expect(proposal).toMatchObject({ proposalId, status: 'ADOPTED', pending: [] });
      expect(text(await buyer.evaluateTransaction('GetPolicy'))).toBe(proposed);
    });

    it('restores the deployed policy through the same two approvals', async () => {
      expect(await adopt(original)).toMatchObject({ status: 'ADOPTED' });
      expect(text(await buyer.evaluateTransaction('GetPolicy'))).toBe(original);
    });
  });

  describe('a self-signed certificate claiming SellerBankMSP', () => {
    it('is refused by the peer before any chaincode runs', async () => {
      const contract = contractOf(await selfSignedIdentity('SellerBankMSP', 'mallory'), 'seller');
      const details = [{ address: fabric.peers['seller']?.address, mspId: 'SellerBankMSP', message: MALFORMED }];
      expect(await peerRefusal(contract.evaluateTransaction('GetPolicy'))).toEqual({
        kind: 'GatewayError',
        code: status.FAILED_PRECONDITION,
        message: `${EVALUATE_REFUSED}${MALFORMED}`,
        details,
        transactionId: undefined,
      });
      const { transactionId, ...refusal } = await peerRefusal(
        contract.submitTransaction('OpenAccount', freshAccountId('mallory')),
      );
      expect(refusal).toEqual({ kind: 'EndorseError', code: status.ABORTED, message: ENDORSE_REFUSED, details });
      expect(await peerLogReason(net, 'seller', transactionId ?? '')).toBe(
        'the supplied identity is not valid: x509: certificate signed by unknown authority',
      );
    });
  });

  describe('the peer CLI', () => {
    it('queries GetPolicy as the seller’s org admin', async () => {
      const { stdout } = await peer(net, peerEnv(net, 'seller'), [
        'chaincode',
        'query',
        ...chaincodeCall(net, ['GetPolicy']),
      ]);
      expect(stdout.trim()).toBe(text(await contractOf(orgAdmin('seller')).evaluateTransaction('GetPolicy')));
    });

    it('invokes OpenAccount as the seller’s bank identity trader, endorsed by both banks’ peers', async () => {
      const trader = bankIdentity(net, 'seller', 'trader');
      const mspDir = writeMspFolder(join(dir, 'trader-msp'), trader, net.fabricMsp.orgs['seller']?.mspDir ?? '');
      const env = { ...peerEnv(net, 'seller', mspDir), FABRIC_LOGGING_SPEC: CHAINCODE_CMD_LOGGING };
      const accountId = freshAccountId('cli');
      const args = ['chaincode', 'invoke', ...invokeFlags(net), ...chaincodeCall(net, ['OpenAccount', accountId])];
      const { stderr } = await peer(net, env, args);
      for (const p of Object.values(fabric.peers))
        expect(stderr).toContain(`committed with status (VALID) at ${p.address}`);
      const payload = /Chaincode invoke successful\. result: status:200 +payload:("(?:[^"\\]|\\.)*")/.exec(stderr)?.[1];
      const account = { accountId, createdAt: expect.any(Number), owner: trader.account };
      expect(JSON.parse(JSON.parse(payload ?? '""') as string)).toEqual(account);
      expect(JSON.parse(text(await contractOf(trader).evaluateTransaction('Account', accountId)))).toEqual(account);
    });

    it('refuses OpenAccount invoked by the org admin, who is not a client', async () => {
      const args = [
        'chaincode',
        'invoke',
        ...invokeFlags(net),
        ...chaincodeCall(net, ['OpenAccount', freshAccountId('adm')]),
      ];
      const context = {
        code: 'NOT_AUTHORIZED',
        mspId: 'SellerBankMSP',
        roles: 'admin,seller',
        transaction: 'OpenAccount',
      };
      const message = `NOT_AUTHORIZED: no role of the caller may call OpenAccount ${canonicalJson(context)}`;
      await expect(peer(net, peerEnv(net, 'seller'), args)).rejects.toThrow(
        `Error: endorsement failure during invoke. response: status:500  message:${JSON.stringify(message)}`,
      );
    });
  });
});
