/**
 * network-up / network-down on a second, private network (own state folder, ports shifted by
 * DVP_PORT_OFFSET) so it can run beside the shared network the cross-ledger tests use.
 */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findFabricBinaries } from './fabric-bin';
import { connectPeer, walletIdentity } from './fabric-client';
import { isAlive, portOpen } from './process';
import type { NetworkState } from './state';
import { listWallet } from '@dvp/certs';
import { expectClientOrgMsp, expectOrgMsp } from './__tests__/msp-checks';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const OFFSET = 1100;
const ANVIL_PORT = 18545 + OFFSET;

function envFor(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DVP_NETWORK_STATE_DIR: join(dir, 'state'),
    DVP_NETWORK_LOG_DIR: join(dir, 'logs'),
    DVP_PORT_OFFSET: String(OFFSET),
    // A copy of the compiled chaincode, which the upgrade case changes.
    DVP_CHAINCODE_DIR: join(dir, 'chaincode'),
  };
}

/** Copies the compiled chaincode (package.json, dist/) to `<dir>/chaincode`. */
function copyChaincode(dir: string): void {
  const from = join(root, 'chaincode', 'fabric');
  mkdirSync(join(dir, 'chaincode'));
  cpSync(join(from, 'package.json'), join(dir, 'chaincode', 'package.json'));
  cpSync(join(from, 'dist'), join(dir, 'chaincode', 'dist'), { recursive: true });
}

async function cli(dir: string, command: 'up' | 'down' | 'chaincode-upgrade'): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [join(root, 'network/src/cli.ts'), command], { env: envFor(dir) });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** PIDs of live processes whose command line mentions `needle` (to count duplicates, not to stop them). */
function pidsMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(isAlive);
}

/** PIDs of live processes whose environment holds `entry` (`NAME=value`). */
function pidsWithEnv(entry: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(entry);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(isAlive);
}

describe('network scripts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dvp-net-'));
    copyChaincode(dir);
  });
  afterEach(async () => {
    await cli(dir, 'down');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('brings the network up once, reports it up on a second run, and leaves nothing behind when down', async () => {
    const state = await firstUp();
    await secondUpChangesNothing(state);
    expectOneProcessPerComponent(state);
    const last = state.fabric.status === 'up' ? await changeChaincodeAndUpgrade(state) : state;
    await downLeavesNothing(state, last);
  }, 120_000);

  function readNetworkState(): NetworkState {
    return JSON.parse(readFileSync(join(dir, 'state', 'network.json'), 'utf8')) as NetworkState;
  }

  /** The first network-up: ready, every bank's identities and CRL, every org's MSP, Fabric where found. */
  async function firstUp(): Promise<NetworkState> {
    const first = await cli(dir, 'up');
    expect(first.out).toContain('ready in');
    expect(first.code).toBe(0);
    const state = readNetworkState();
    expect(state.evm.rpcUrl).toBe(`http://127.0.0.1:${ANVIL_PORT}`);
    expectBankIdentities(state);
    expectAgentIdentities(state);
    // The agents org's CA is one more recorded process (health-checked, stopped by network-down).
    expect(state.processes.find((p) => p.name === 'ca-agents')?.ports).toEqual([17354 + OFFSET]);
    expect(first.out).toMatch(/network-up: Fabric MSP: .* done in \d+\.\d s/);
    expectOrgMsps(state);
    expectFabricWhereFound(state);
    return state;
  }

  /** Each bank's wallet holds its enrolled identities, and each bank's CA publishes its CRL. */
  function expectBankIdentities(state: NetworkState): void {
    for (const org of ['seller', 'buyer']) {
      const ca = state.fabricCa.orgs[org];
      // The issuer's org (the seller) also holds `issuer`.
      const issuer = org === 'seller' ? ['issuer'] : [];
      const names = ['admin', 'auditor', 'gateway', 'gateway-tls', ...issuer, 'registrar', 'trader'];
      expect(listWallet(ca?.wallet ?? '')).toEqual(names);
      expect(readFileSync(ca?.crlFile ?? '', 'utf8')).toMatch(/^-----BEGIN X509 CRL-----/);
    }
  }

  /** Each agent party's wallet (inside the agents org's) holds its identities; the agents CA publishes its CRL. */
  function expectAgentIdentities(state: NetworkState): void {
    const ca = state.fabricCa.orgs['agents'];
    for (const party of ['manager', 'notary', 'observer']) {
      expect(state.agents.parties[party]?.wallet).toBe(join(ca?.wallet ?? '', party));
      expect(listWallet(join(ca?.wallet ?? '', party))).toEqual(['admin', 'auditor', 'gateway', 'gateway-tls']);
    }
    expect(readFileSync(ca?.crlFile ?? '', 'utf8')).toMatch(/^-----BEGIN X509 CRL-----/);
  }

  /** An MSP per org (the orderer's, each bank's and the agents org's), under the network's state folder. */
  function expectOrgMsps(state: NetworkState): void {
    expect(Object.keys(state.fabricMsp.orgs).sort()).toEqual(['buyer', 'orderer', 'seller']);
    for (const [org, msp] of Object.entries(state.fabricMsp.orgs)) {
      expect(msp.root).toBe(join(dir, 'state', 'fabric', 'organizations', org));
      expectOrgMsp(msp, state.fabricCa.orgs[org]?.caCertFile ?? '');
    }
    expect(state.agents.msp.root).toBe(join(dir, 'state', 'fabric', 'organizations', 'agents'));
    expectClientOrgMsp(state.agents.msp, state.fabricCa.orgs['agents']?.caCertFile ?? '');
  }

  /** Fabric runs wherever its binaries are found (fabric-bin.ts), and says why not otherwise. */
  function expectFabricWhereFound(state: NetworkState): void {
    const fabric = findFabricBinaries();
    expect(state.fabric.status).toBe(fabric.found ? 'up' : 'unavailable');
    const fabricNames = ['orderer', 'peer-seller', 'peer-buyer', 'chaincode-securities'];
    expect(state.processes.map((p) => p.name).filter((n) => fabricNames.includes(n))).toEqual(
      fabric.found ? fabricNames : [],
    );
  }

  /** A second network-up finds the network up and records the same processes. */
  async function secondUpChangesNothing(state: NetworkState): Promise<void> {
    const second = await cli(dir, 'up');
    expect(second.code).toBe(0);
    expect(second.out).toContain('already up');
    const again = readNetworkState();
    expect(again.processes).toEqual(state.processes);
  }

  /** Exactly one live process per recorded component, found by its port, not by its name. */
  function expectOneProcessPerComponent(state: NetworkState): void {
    expect(pidsMentioning(`--port ${ANVIL_PORT}`)).toEqual([state.processes.find((p) => p.name === 'anvil')?.pid]);
    if (state.fabric.status !== 'up') return;
    const { fabric: f } = state;
    const pidOf = (name: string) => [state.processes.find((p) => p.name === name)?.pid];
    // The orderer and peers are told their config folder by FABRIC_CFG_PATH: one process each.
    const cfg = (host: string) => `FABRIC_CFG_PATH=${join(dir, 'state', 'fabric', 'config', host)}`;
    expect(pidsWithEnv(cfg(`orderer0.orderer.dvp.local`))).toEqual(pidOf('orderer'));
    for (const org of ['seller', 'buyer']) expect(pidsWithEnv(cfg(f.peers[org]!.host))).toEqual(pidOf(`peer-${org}`));
    expect(pidsMentioning(`--chaincode-address=${f.chaincode.serverAddress}`)).toEqual(pidOf('chaincode-securities'));
  }

  /** network-down stops every process ever recorded, frees their ports and removes the state folder. */
  async function downLeavesNothing(state: NetworkState, last: NetworkState): Promise<void> {
    const down = await cli(dir, 'down');
    expect(down.code).toBe(0);
    for (const p of [...state.processes, ...last.processes]) expect(isAlive(p.pid)).toBe(false);
    for (const port of state.processes.flatMap((p) => p.ports)) expect(await portOpen(port)).toBe(false);
    expect(existsSync(join(dir, 'state'))).toBe(false);
  }

  /**
   * A changed chaincode on the running network: network-up deploys it with the next sequence and
   * restarts its server (one server process after), and chaincode-upgrade then finds nothing to do.
   */
  async function changeChaincodeAndUpgrade(state: NetworkState): Promise<NetworkState> {
    if (state.fabric.status !== 'up') throw new Error('Fabric is not up');
    const before = state.fabric.chaincode;
    appendFileSync(join(dir, 'chaincode', 'dist', 'index.js'), '\n// changed by network.test.ts\n');
    const up = await cli(dir, 'up');
    expect(up.code).toBe(0);
    expect(up.out).toContain('compiled chaincode changed since it was deployed; upgrading it');
    const after = JSON.parse(readFileSync(join(dir, 'state', 'network.json'), 'utf8')) as NetworkState;
    if (after.fabric.status !== 'up') throw new Error('Fabric went down');
    expect(after.fabric.chaincode).toMatchObject({ sequence: before.sequence + 1, name: before.name });
    expect(after.fabric.chaincode.packageId).not.toBe(before.packageId);
    expect(pidsMentioning(`--chaincode-id=${before.packageId}`)).toEqual([]);
    expect(pidsMentioning(`--chaincode-id=${after.fabric.chaincode.packageId}`)).toEqual([
      after.processes.find((p) => p.name === 'chaincode-securities')?.pid,
    ]);
    // The new definition is served: a chaincode call through the seller's peer answers.
    const ca = after.fabricCa.orgs['seller']!;
    const conn = connectPeer(after.fabric.peers['seller']!, walletIdentity(ca.mspId, ca.wallet, 'gateway'));
    try {
      const policy = await conn
        .contract(after.fabric.channel, after.fabric.chaincode.name)
        .evaluateTransaction('GetPolicy');
      expect(JSON.parse(Buffer.from(policy).toString('utf8'))).toMatchObject({
        governors: ['SellerBankMSP', 'BuyerBankMSP'],
      });
    } finally {
      conn.close();
    }
    const again = await cli(dir, 'chaincode-upgrade');
    expect(again).toMatchObject({ code: 0, out: expect.stringContaining('is up to date') });
    return after;
  }

  it('names the component that failed, shows its log, and stops what it had started', async () => {
    // Another process already holds anvil's port: anvil exits at start-up.
    const blocker = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${ANVIL_PORT}, '127.0.0.1', () => console.log('listening'))`,
    ]);
    await new Promise<void>((res) => blocker.stdout.once('data', () => res()));
    try {
      const up = await cli(dir, 'up');
      expect(up.code).not.toBe(0);
      expect(up.out).toMatch(/anvil: (exited during start-up|not healthy)/);
      expect(up.out).toContain('last lines of');
      expect(pidsMentioning(`--port ${ANVIL_PORT}`)).toEqual([]);
      expect(existsSync(join(dir, 'state', 'network.json'))).toBe(false);
    } finally {
      blocker.kill();
    }
  }, 120_000);
});
