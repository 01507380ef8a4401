/**
 * The PID registry: every process `network-up` starts is appended here the moment it is spawned,
 * before it is healthy, so `network-down` can stop it even when `network-up` failed half-way.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcessRecord } from './state';

export class ProcessRegistry {
  readonly #file: string;
  #records: ProcessRecord[];

  constructor(file: string) {
    this.#file = file;
    this.#records = ProcessRegistry.read(file);
  }

  static read(file: string): ProcessRecord[] {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ProcessRecord[];
    } catch {
      return [];
    }
  }

  get records(): readonly ProcessRecord[] {
    return this.#records;
  }

  add(record: ProcessRecord): void {
    this.#write([...this.#records, record]);
  }

  /** Replaces the record named `record.name` (a restarted process), or adds it. */
  replace(record: ProcessRecord): void {
    this.#write([...this.#records.filter((r) => r.name !== record.name), record]);
  }

  #write(records: ProcessRecord[]): void {
    this.#records = records;
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.#records, null, 2)}\n`);
    renameSync(tmp, this.#file);
  }
}
