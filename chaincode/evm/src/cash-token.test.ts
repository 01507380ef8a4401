import {
  decodeEventLog,
  keccak256,
  parseEventLogs,
  sha256,
  stringToHex,
  type Address,
  type TransactionReceipt,
} from 'viem';
import { cashTokenAbi, deployCashContracts, hashedTimelockAbi, type CashDeployment } from '.';
import {
  expectRevert,
  preimageOf,
  isolateEachTest,
  printGasTable,
  setupFixture,
  type Fixture,
  type Role,
} from './__tests__/fixture';

const ISSUER_ROLE = keccak256(stringToHex('ISSUER_ROLE'));
const ALLOWLIST_ADMIN_ROLE = keccak256(stringToHex('ALLOWLIST_ADMIN_ROLE'));
const PREIMAGE = preimageOf(0x99);
const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

let f: Fixture;
let restricted: CashDeployment;
beforeAll(async () => {
  f = await setupFixture();
  restricted = await deployCashContracts(f.wallets.admin, { allowlist: true, decimals: 6, symbol: 'RCASH' });
}, 60_000);
afterAll(async () => {
  printGasTable('CashToken');
  await f?.anvil.stop();
});
isolateEachTest(() => f);

const read = (
  token: Address,
  functionName: 'balanceOf' | 'isPermittedHolder',
  who: Address,
): Promise<bigint | boolean> =>
  functionName === 'balanceOf'
    ? f.client.readContract({ address: token, abi: cashTokenAbi, functionName, args: [who] })
    : f.client.readContract({ address: token, abi: cashTokenAbi, functionName, args: [who] });
const mint = (token: Address, by: Role, to: Role, amount: bigint, label?: string) =>
  f.send(by, { address: token, abi: cashTokenAbi, functionName: 'mint', args: [f.addr[to], amount] }, label);
const transfer = (token: Address, from: Role, to: Role, amount: bigint, label?: string) =>
  f.send(from, { address: token, abi: cashTokenAbi, functionName: 'transfer', args: [f.addr[to], amount] }, label);
const permit = (who: Role, permitted = true) =>
  f.send('admin', {
    address: restricted.token,
    abi: cashTokenAbi,
    functionName: 'setPermittedHolder',
    args: [f.addr[who], permitted],
  });
const tokenEvents = (token: Address, receipt: TransactionReceipt) =>
  receipt.logs
    .filter((l) => l.address.toLowerCase() === token.toLowerCase())
    .map((l) => decodeEventLog({ abi: cashTokenAbi, data: l.data, topics: l.topics }));

describe('CashToken', () => {
  describe('decimals', () => {
    it('defaults to 2 and is configurable at deployment', async () => {
      const decimals = (token: Address) =>
        f.client.readContract({ address: token, abi: cashTokenAbi, functionName: 'decimals' });
      expect(await decimals(f.deployment.token)).toBe(2);
      expect(await decimals(restricted.token)).toBe(6);
    });
  });

  describe('mint and burn', () => {
    it('lets the issuer mint and emits Transfer from zero', async () => {
      const receipt = await mint(f.deployment.token, 'admin', 'alice', 500_00n, 'CashToken.mint');
      expect(tokenEvents(f.deployment.token, receipt)).toEqual([
        { eventName: 'Transfer', args: { from: ZERO_ADDRESS, to: f.addr.alice, value: 500_00n } },
      ]);
      expect(await read(f.deployment.token, 'balanceOf', f.addr.alice)).toBe(500_00n);
    });

    it('rejects minting by anyone without the issuer role', async () => {
      await expectRevert(mint(f.deployment.token, 'alice', 'alice', 1n), 'AccessControlUnauthorizedAccount', [
        f.addr.alice,
        ISSUER_ROLE,
      ]);
    });

    it("burns from the issuer's own balance and reduces the supply", async () => {
      await mint(f.deployment.token, 'admin', 'admin', 100_00n);
      await f.send(
        'admin',
        { address: f.deployment.token, abi: cashTokenAbi, functionName: 'burn', args: [40_00n] },
        'CashToken.burn',
      );
      const supply = await f.client.readContract({
        address: f.deployment.token,
        abi: cashTokenAbi,
        functionName: 'totalSupply',
      });
      expect(supply).toBe(60_00n);
    });

    it('rejects burning by a holder without the issuer role', async () => {
      await mint(f.deployment.token, 'admin', 'alice', 10n);
      const call = f.send('alice', {
        address: f.deployment.token,
        abi: cashTokenAbi,
        functionName: 'burn',
        args: [1n],
      });
      await expectRevert(call, 'AccessControlUnauthorizedAccount', [f.addr.alice, ISSUER_ROLE]);
    });
  });

  describe('allowlist', () => {
    it('is not enforced unless enabled at deployment', async () => {
      await mint(f.deployment.token, 'admin', 'alice', 10n);
      await transfer(f.deployment.token, 'alice', 'bob', 10n, 'CashToken.transfer (no allowlist)');
      expect(await read(f.deployment.token, 'isPermittedHolder', f.addr.carol)).toBe(true);
    });

    it('rejects minting to, and transfers to or from, a holder not on the list', async () => {
      await expectRevert(mint(restricted.token, 'admin', 'alice', 1n), 'CashHolderNotPermitted', [f.addr.alice]);
      await permit('alice');
      await mint(restricted.token, 'admin', 'alice', 10n);
      await expectRevert(transfer(restricted.token, 'alice', 'bob', 1n), 'CashHolderNotPermitted', [f.addr.bob]);
      await permit('bob');
      await transfer(restricted.token, 'alice', 'bob', 5n, 'CashToken.transfer (allowlist)');
      await permit('alice', false);
      await expectRevert(transfer(restricted.token, 'alice', 'bob', 1n), 'CashHolderNotPermitted', [f.addr.alice]);
    });

    it('emits HolderPermissionChanged and only for the allowlist admin', async () => {
      const receipt = await permit('carol');
      expect(tokenEvents(restricted.token, receipt)).toEqual([
        { eventName: 'HolderPermissionChanged', args: { account: f.addr.carol, permitted: true, admin: f.addr.admin } },
      ]);
      const call = f.send('alice', {
        address: restricted.token,
        abi: cashTokenAbi,
        functionName: 'setPermittedHolder',
        args: [f.addr.alice, true],
      });
      await expectRevert(call, 'AccessControlUnauthorizedAccount', [f.addr.alice, ALLOWLIST_ADMIN_ROLE]);
    });

    it('keeps a lock to a holder not on the list unclaimable until the sender refunds it', async () => {
      await permit('alice');
      await mint(restricted.token, 'admin', 'alice', 100n);
      await f.send('alice', {
        address: restricted.token,
        abi: cashTokenAbi,
        functionName: 'approve',
        args: [restricted.htlc, 100n],
      });
      const expiry = (await f.now()) + 60n;
      const receipt = await f.send('alice', {
        address: restricted.htlc,
        abi: hashedTimelockAbi,
        functionName: 'lock',
        args: [f.addr.bob, restricted.token, 100n, sha256(PREIMAGE), expiry],
      });
      const [locked] = parseEventLogs({ abi: hashedTimelockAbi, eventName: 'Locked', logs: receipt.logs });
      const lockId = locked!.args.lockId;
      const claim = f.send('bob', {
        address: restricted.htlc,
        abi: hashedTimelockAbi,
        functionName: 'claim',
        args: [lockId, PREIMAGE],
      });
      await expectRevert(claim, 'CashHolderNotPermitted', [f.addr.bob]);
      await f.setNextTime(expiry);
      await f.send('alice', {
        address: restricted.htlc,
        abi: hashedTimelockAbi,
        functionName: 'refund',
        args: [lockId],
      });
      expect(await read(restricted.token, 'balanceOf', f.addr.alice)).toBe(100n);
    });

    it('permits the HTLC and the escrow when the deployer is the admin', async () => {
      expect(await read(restricted.token, 'isPermittedHolder', restricted.htlc)).toBe(true);
      expect(await read(restricted.token, 'isPermittedHolder', restricted.escrow)).toBe(true);
    });
  });
});
