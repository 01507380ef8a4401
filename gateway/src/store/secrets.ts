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

/** The HTLC leader's secrets in table `htlc_secrets` of `db` (settlement/htlc's `SecretStore` port). */
export function createSecretStore(
  db: Db,
  fresh: () => StoredSecret,
): { secretFor(owner: string, tradeId: string): StoredSecret } {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO htlc_secrets (owner, trade_id, preimage, hashlock) VALUES (?, ?, ?, ?)',
  );
  const select = db.prepare<[string, string], StoredSecret>(
    'SELECT preimage, hashlock FROM htlc_secrets WHERE owner = ? AND trade_id = ?',
  );
  return {
    secretFor(owner, tradeId) {
      const secret = fresh();
      // Insert-or-ignore then read: a concurrent first use keeps whichever secret was stored first.
      insert.run(owner, tradeId, secret.preimage, secret.hashlock);
      const stored = select.get(owner, tradeId);
      if (!stored) throw new Error(`htlc secret of ${owner}/${tradeId} was not stored`);
      return stored;
    },
  };
}
