import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trustAnchor } from './identity';
import { createLogger } from '../core/log';
import { createRevocationStore, type RevocationStore } from './revocation';
import { createLocalCa, tempDir, writeAtomic, type LocalCa } from '../../testing/pki';

describe('revocation store', () => {
  const tmp = tempDir('dvp-gateway-crl-');
  const crlFile = join(tmp.dir, 'a.crl');
  let ca: LocalCa;
  let other: LocalCa;
  let store: RevocationStore | undefined;
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ sink: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });

  beforeAll(async () => {
    [ca, other] = await Promise.all([createLocalCa('CRL CA'), createLocalCa('Other CA')]);
  });
  afterEach(() => store?.close());
  afterAll(() => tmp.remove());

  const serialOf = (pem: string) => new x509.X509Certificate(pem).serialNumber;
  const open = (files: string[], requireForEveryAnchor = true) =>
    createRevocationStore({
      files,
      anchors: [trustAnchor('A', ca.certPem), trustAnchor('O', other.certPem)],
      reloadIntervalMs: 60_000,
      requireForEveryAnchor,
      logger,
    });

  it('says revoked for a listed serial, good otherwise, and re-reads a replaced file on reload', async () => {
    const [alice, bob] = [await ca.issue('alice'), await ca.issue('bob')];
    // The store matches CRLs to the anchor objects it was given: checks pass the same objects.
    const anchors = [trustAnchor('A', ca.certPem)] as const;
    writeFileSync(crlFile, await ca.crl([serialOf(alice.cert)]));
    store = await createRevocationStore({
      files: [crlFile],
      anchors,
      reloadIntervalMs: 60_000,
      requireForEveryAnchor: true,
      logger,
    });
    expect((await store.check(alice.cert, anchors[0])).status).toBe('revoked');
    expect((await store.check(bob.cert, anchors[0])).status).toBe('good');
    writeAtomic(crlFile, await ca.crl([serialOf(alice.cert), serialOf(bob.cert)]));
    await store.reload();
    expect((await store.check(bob.cert, anchors[0])).status).toBe('revoked');
  });

  it('keeps the previous CRL when the file becomes unreadable, and logs it', async () => {
    const carol = await ca.issue('carol');
    const anchors = [trustAnchor('A', ca.certPem)] as const;
    writeFileSync(crlFile, await ca.crl([serialOf(carol.cert)]));
    store = await createRevocationStore({
      files: [crlFile],
      anchors,
      reloadIntervalMs: 60_000,
      requireForEveryAnchor: true,
      logger,
    });
    writeAtomic(crlFile, 'garbage');
    await store.reload();
    expect((await store.check(carol.cert, anchors[0])).status).toBe('revoked');
    expect(logs.some((l) => l['level'] === 'warn' && l['msg'] === 'CRL reload failed; keeping the previous CRL')).toBe(
      true,
    );
  });

  it('answers unknown past the CRL’s nextUpdate, and for an anchor without a CRL unless told otherwise', async () => {
    const dave = await ca.issue('dave');
    const anchors = [trustAnchor('A', ca.certPem), trustAnchor('O', other.certPem)] as const;
    writeFileSync(crlFile, await ca.crl());
    store = await createRevocationStore({
      files: [crlFile],
      anchors,
      reloadIntervalMs: 60_000,
      requireForEveryAnchor: true,
      logger,
    });
    const later = new Date(Date.now() + 2 * 86_400_000);
    expect(await store.check(dave.cert, anchors[0], later)).toMatchObject({ status: 'unknown', why: /CRL expired/ });
    const eve = await other.issue('eve');
    expect(await store.check(eve.cert, anchors[1])).toMatchObject({ status: 'unknown', why: /no CRL loaded/ });
    store.close();
    store = await createRevocationStore({
      files: [crlFile],
      anchors,
      reloadIntervalMs: 60_000,
      requireForEveryAnchor: false,
      logger,
    });
    expect((await store.check(eve.cert, anchors[1])).status).toBe('good');
  });

  it('refuses at start a CRL signed by no trust anchor, naming the file', async () => {
    const stranger = await createLocalCa('Stranger CA');
    const file = join(tmp.dir, 'stranger.crl');
    writeFileSync(file, await stranger.crl());
    await expect(open([file])).rejects.toThrow(`CRL file '${file}': CRL issuer 'CN=Stranger CA' is not a trust anchor`);
  });
});
