import { createPublicKey } from 'node:crypto';
import { certificateFingerprint, generateKeyPair } from './crypto';
import { canonicalJson } from './canonical';
import { partyOfCertificate, signDirectory, verifyDirectory, type Directory } from './directory';
import { makeLocalCa } from './__tests__/fixtures';

const EVM_SELLER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const EVM_BUYER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

async function setup() {
  const ca = await makeLocalCa('Seller CA');
  const seller = await ca.issue('seller-gw', { role: 'gateway', party: 'SELLER' });
  const buyer = await ca.issue('buyer-gw', { role: 'gateway', party: 'BUYER' });
  const directory: Directory = {
    version: 1,
    issuedAt: 1_800_000_000,
    parties: {
      SELLER: {
        mspId: 'SellerBankMSP',
        certificateFingerprints: [certificateFingerprint(seller.cert)],
        evmAddress: EVM_SELLER,
        gatewayUrl: 'https://127.0.0.1:18443',
      },
      BUYER: {
        mspId: 'BuyerBankMSP',
        certificateFingerprints: [certificateFingerprint(buyer.cert)],
        evmAddress: EVM_BUYER,
        gatewayUrl: 'https://127.0.0.1:18444',
      },
    },
  };
  const authority = await generateKeyPair();
  return { ca, seller, buyer, directory, authority, authorityPublic: createPublicKey(authority.privateKey) };
}

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: [3, { d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[3,{"c":2,"d":1}]}');
  });

  it('is the same for objects built in a different key order', () => {
    expect(canonicalJson({ x: 1, y: { q: true, p: null } })).toBe(canonicalJson({ y: { p: null, q: true }, x: 1 }));
  });

  it('rejects values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() => canonicalJson({ n: 1n })).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
});

describe('directory', () => {
  describe('signDirectory / verifyDirectory', () => {
    it('verifies a directory signed by the authority, also after a JSON round trip', async () => {
      const { directory, authority, authorityPublic } = await setup();
      const signed = JSON.parse(JSON.stringify(signDirectory(directory, authority.privateKey)));
      expect(verifyDirectory(signed, authorityPublic)).toEqual(directory);
      expect(verifyDirectory(signed, authorityPublic.export({ format: 'pem', type: 'spki' }).toString())).toEqual(
        directory,
      );
    });

    it('detects a tampered entry', async () => {
      const { directory, authority, authorityPublic } = await setup();
      const signed = signDirectory(directory, authority.privateKey);
      const seller = directory.parties['SELLER'];
      const tampered = {
        ...signed,
        directory: {
          ...directory,
          parties: { ...directory.parties, SELLER: { ...seller!, evmAddress: EVM_BUYER } },
        },
      };
      expect(() => verifyDirectory(tampered, authorityPublic)).toThrow(
        expect.objectContaining({ code: 'directory_signature' }),
      );
    });

    it('rejects a signature by another key and a garbled signature', async () => {
      const { directory, authorityPublic } = await setup();
      const impostor = await generateKeyPair();
      const signed = signDirectory(directory, impostor.privateKey);
      expect(() => verifyDirectory(signed, authorityPublic)).toThrow(
        expect.objectContaining({ code: 'directory_signature' }),
      );
      expect(() => verifyDirectory({ ...signed, signature: 'AAAA' }, authorityPublic)).toThrow(
        expect.objectContaining({ code: 'directory_signature' }),
      );
    });
  });

  describe('partyOfCertificate', () => {
    it('returns the party whose entry lists the certificate', async () => {
      const { directory, seller, buyer } = await setup();
      expect(partyOfCertificate(directory, seller.cert)).toEqual({
        party: 'SELLER',
        entry: directory.parties['SELLER'],
      });
      expect(partyOfCertificate(directory, buyer.cert).party).toBe('BUYER');
    });

    it('does not match a certificate from another CA with the same subject and attributes', async () => {
      const { directory } = await setup();
      const rogue = await makeLocalCa('Seller CA');
      const copy = await rogue.issue('seller-gw', { role: 'gateway', party: 'SELLER' });
      expect(() => partyOfCertificate(directory, copy.cert)).toThrow(
        expect.objectContaining({ code: 'directory_unknown_certificate' }),
      );
    });

    it('rejects a listed certificate whose party attribute names another party', async () => {
      const { ca, directory, authority, authorityPublic } = await setup();
      const forged = await ca.issue('buyer-gw-2', { role: 'gateway', party: 'SELLER' });
      // A directory (validly signed) that lists the certificate under BUYER.
      const buyer = directory.parties['BUYER']!;
      const listed: Directory = {
        ...directory,
        parties: {
          ...directory.parties,
          BUYER: {
            ...buyer,
            certificateFingerprints: [...buyer.certificateFingerprints, certificateFingerprint(forged.cert)],
          },
        },
      };
      const verified = verifyDirectory(signDirectory(listed, authority.privateKey), authorityPublic);
      expect(() => partyOfCertificate(verified, forged.cert)).toThrow(
        expect.objectContaining({
          code: 'directory_party_mismatch',
          message: "certificate claims party 'SELLER' but the directory lists it under 'BUYER'",
        }),
      );
    });

    it('rejects a listed certificate without a party attribute', async () => {
      const { ca, directory } = await setup();
      const bare = await ca.issue('anon', { role: 'gateway' });
      const seller = directory.parties['SELLER']!;
      const listed: Directory = {
        ...directory,
        parties: { SELLER: { ...seller, certificateFingerprints: [certificateFingerprint(bare.cert)] } },
      };
      expect(() => partyOfCertificate(listed, bare.cert)).toThrow(
        expect.objectContaining({ code: 'directory_party_mismatch' }),
      );
    });
  });
});
