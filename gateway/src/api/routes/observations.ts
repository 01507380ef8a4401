/**
 * The observer's route: its log of the records the manager and the banks sent it, filtered, with
 * the verification of the whole chain, of each returned entry's signature and, on request, of each
 * record against both ledgers (settlement/observer/observer.ts `audit`).
 */
import type { ObserverAuditEntry, ObserverAuditPage, ObserverAuditQuery } from '../../settlement/observer/observer';
import { RequestError } from '../errors';
import { serviceOf, type Handler, type RouteContext } from './context';

/** One log entry as JSON: the amount as a decimal string. */
function observationToWire(e: ObserverAuditEntry): unknown {
  const { amount, ...rest } = e;
  return amount === undefined ? rest : { ...rest, amount: amount.toString() };
}

/** The observer's audit page as JSON (schema `ObservationPage`). */
export function observationsToWire(page: ObserverAuditPage): unknown {
  const { chain, signatures, records, ledgers } = page.verification;
  return {
    entries: page.entries.map(observationToWire),
    verification: {
      chain: { ...chain },
      signatures: { ok: signatures.ok, checked: signatures.checked, bad: [...signatures.bad] },
      records: { ok: records.ok, invalid: [...records.invalid] },
      ...(ledgers && { ledgers: { ok: ledgers.ok, checked: ledgers.checked, mismatches: [...ledgers.mismatches] } }),
    },
  };
}

/**
 * A time bound of the query as the log stores times (UTC, milliseconds), so that any offset the
 * caller wrote compares right. The schema checked the format; this refuses what does not parse.
 */
function bound(ctx: RouteContext, name: 'from' | 'to'): string | undefined {
  const value = ctx.query[name];
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new RequestError('VALIDATION_FAILED', `query.${name} is not a date and time`, {
      in: 'query',
      field: `query.${name}`,
    });
  }
  return new Date(ms).toISOString();
}

function queryOf(ctx: RouteContext): ObserverAuditQuery {
  const q = ctx.query;
  const from = bound(ctx, 'from');
  const to = bound(ctx, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new RequestError('VALIDATION_FAILED', 'query.to must not be before query.from', {
      in: 'query',
      field: 'query.to',
    });
  }
  return {
    ...(q['tradeId'] !== undefined && { tradeId: q['tradeId'] }),
    ...(q['party'] !== undefined && { party: q['party'] }),
    ...(from !== undefined && { from }),
    ...(to !== undefined && { to }),
    verifyLedgers: q['verifyLedgers'] === 'true',
  };
}

export const getObservations: Handler = async (ctx) => {
  const observer = serviceOf(ctx, 'observer');
  return { status: 200, json: observationsToWire(await observer.audit(queryOf(ctx))) };
};
