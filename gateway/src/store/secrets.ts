/**
 * The HTLC leader's secrets (settlement/htlc/secrets.ts declares the port and makes them), durable
 * before any lock is journaled; a concurrent first use keeps whichever secret was stored first.
 */
import type { Db } from './db';

/** A preimage and its hashlock, both 0x-hex (settlement/htlc `HtlcSecret`). */
export interface StoredSecret {
  readonly preimage: string;
  readonly hashlock: string;
}

/** The HTLC leader's secrets of `store.party` in table `htlc_secrets` (settlement/htlc's `SecretStore` port). */
export function createSecretStore(
  store: { readonly db: Db; readonly party: string },
  fresh: () => StoredSecret,
): { secretFor(tradeId: string): StoredSecret } {
  const { db, party } = store;
  const insert = db.prepare(
    'INSERT OR IGNORE INTO htlc_secrets (owner, trade_id, preimage, hashlock) VALUES (?, ?, ?, ?)',
  );
  const select = db.prepare<[string, string], StoredSecret>(
    'SELECT preimage, hashlock FROM htlc_secrets WHERE owner = ? AND trade_id = ?',
  );
  return {
    secretFor(tradeId) {
      const secret = fresh();
      // Insert-or-ignore then read: a concurrent first use keeps whichever secret was stored first.
      insert.run(party, tradeId, secret.preimage, secret.hashlock);
      const stored = select.get(party, tradeId);
      if (!stored) throw new Error(`htlc secret of ${party}/${tradeId} was not stored`);
      return stored;
    },
  };
}
