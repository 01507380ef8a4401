/**
 * The JSON-RPC transport of the EVM connector: viem's `http` with one addition. A node that
 * keeps only recent state (anvil `--prune-history`, the local network's setting) can answer a
 * read at `latest` with "block out of range" when a block is mined between resolving `latest`
 * and executing the call; such answers are retried a few times at the fetch level, so every
 * read (calls, gas estimates, logs) gets it and viem's own error handling is unchanged.
 */
import { http, type HttpTransport } from 'viem';

const TRANSIENT = /BlockOutOfRange|block height is \d+ but requested was \d+/i;
const ATTEMPTS = 5;

function isTransient(body: string): boolean {
  return TRANSIENT.test(body);
}

/** A fetch that re-sends a request whose JSON-RPC answer is a transient state error. */
export async function fetchWithStateRetry(...[input, init]: Parameters<typeof fetch>): Promise<Response> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(input, init);
    if (attempt === ATTEMPTS || !response.ok) return response;
    const body = await response.clone().text();
    if (!isTransient(body)) return response;
    await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
  }
}

/** viem's http transport with {@link fetchWithStateRetry}. */
export function evmTransport(rpcUrl: string): HttpTransport {
  return http(rpcUrl, { fetchFn: fetchWithStateRetry });
}
