import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFingerprint, type Directory } from '@dvp/certs';
import { createDirectoryStore, type DirectoryStore } from './directory';
import { createLogger } from '../core/log';
import { createLocalCa, directoryAuthority, tempDir, writeAtomic } from '../../testing/pki';

describe('directory store', () => {
  const tmp = tempDir('dvp-gateway-dir-');
  const file = join(tmp.dir, 'directory.json');
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ sink: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  let store: DirectoryStore | undefined;

  afterEach(() => store?.close());
  afterAll(() => tmp.remove());

  const dir = (issuedAt: number, fingerprints: string[]): Directory => ({
    version: 1,
    issuedAt,
    parties: {
      BANKA: { mspId: 'AMSP', certificateFingerprints: fingerprints, evmAddress: '0x1', gatewayUrl: 'https://a:1' },
      BANKB: { mspId: 'BMSP', certificateFingerprints: [], evmAddress: '0x2', gatewayUrl: 'https://b:2' },
    },
  });

  it('verifies the file, maps certificates to parties, lists the other gateways, and follows re-signed updates', async () => {
    const authority = await directoryAuthority();
    const op = await (await createLocalCa('Dir CA')).issue('op', { attrs: { party: 'BANKA', role: 'operator' } });
    authority.write(file, dir(10, [certificateFingerprint(op.cert)]));
    store = createDirectoryStore({ file, authorityKeyPem: authority.publicKeyPem, reloadIntervalMs: 60_000, logger });
    expect(store.partyOf(op.cert).party).toBe('BANKA');
    expect(store.has('BANKB')).toBe(true);
    expect(store.has('toString')).toBe(false);
    expect(store.peerGateways('BANKA')).toEqual({ BANKB: 'https://b:2' });
    authority.write(file, dir(11, []));
    store.reload();
    expect(() => store?.partyOf(op.cert)).toThrow(/in no directory entry/);
  });

  it('keeps the previous directory when the file is tampered with or rolled back, and logs it', async () => {
    const authority = await directoryAuthority();
    authority.write(file, dir(20, []));
    store = createDirectoryStore({ file, authorityKeyPem: authority.publicKeyPem, reloadIntervalMs: 60_000, logger });
    const signed = JSON.parse(readFileSync(file, 'utf8')) as { directory: Directory };
    writeAtomic(file, JSON.stringify({ ...signed, directory: { ...signed.directory, issuedAt: 21 } }));
    store.reload();
    expect(store.current().issuedAt).toBe(20);
    authority.write(file, dir(19, []));
    store.reload();
    expect(store.current().issuedAt).toBe(20);
    const warnings = logs.filter((l) => l['level'] === 'warn').map((l) => l['error']);
    expect(warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/signature does not verify/), expect.stringMatching(/older than/)]),
    );
  });

  it('refuses at start a directory signed by another key, naming the file', async () => {
    const [authority, impostor] = await Promise.all([directoryAuthority(), directoryAuthority()]);
    impostor.write(file, dir(1, []));
    expect(() =>
      createDirectoryStore({ file, authorityKeyPem: authority.publicKeyPem, reloadIntervalMs: 60_000, logger }),
    ).toThrow(`directory file '${file}': directory signature does not verify with the authority key`);
  });
});
