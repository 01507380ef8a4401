/**
 * Random crash runs: a seeded schedule of moments at which gateways are killed -9 and restarted
 * while trades are instructed and settle. The seed is printed by the test, and the same seed
 * gives the same schedule (the moments, not the machine's timing), so a failure can be replayed.
 */
import { sleep, type GatewayProcess, type Party } from './two-banks';

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed in `env[name]`, or a fresh random one. */
export function seedFrom(env: NodeJS.ProcessEnv, name: string): number {
  const given = env[name];
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(given);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`${name} must be a non-negative integer, not ${given}`);
  return seed;
}

/** A whole number of milliseconds in [min, max). */
export const between = (rand: () => number, min: number, max: number): number => Math.floor(min + rand() * (max - min));

/** One party's crashes: how long it runs before each kill, and how long it stays down after. */
export interface KillPlan<P extends Party = Party> {
  readonly party: P;
  readonly kills: readonly { readonly upMs: number; readonly downMs: number }[];
}

/** `kills` crashes per party, each after `upMs` of running (from [minUpMs, maxUpMs)), down up to a second. */
export function killPlans<P extends Party>(
  rand: () => number,
  parties: readonly P[],
  kills: number,
  upMs: readonly [number, number],
): KillPlan<P>[] {
  return parties.map((party) => ({
    party,
    kills: Array.from({ length: kills }, () => ({ upMs: between(rand, ...upMs), downMs: between(rand, 0, 1000) })),
  }));
}

/** Carries out one party's plan on its process (running when called); `note` hears each kill. */
export async function carryOut(gw: GatewayProcess, plan: KillPlan, note: (line: string) => void): Promise<void> {
  for (const [i, k] of plan.kills.entries()) {
    await sleep(k.upMs);
    await gw.kill9();
    note(`${plan.party} killed (${i + 1}/${plan.kills.length})`);
    await sleep(k.downMs);
    await gw.start();
  }
}
