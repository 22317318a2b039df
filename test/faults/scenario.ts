/** What a scenario reports: what it did, what it found, and the problems that make it fail. */
export class Report {
  readonly did: string[] = [];
  readonly found: string[] = [];
  readonly problems: string[] = [];

  step(line: string): void {
    this.did.push(line);
    console.log(`    · ${line}`);
  }

  fact(line: string): void {
    this.found.push(line);
    console.log(`    = ${line}`);
  }

  fail(line: string): void {
    this.problems.push(line);
    console.log(`    ✗ ${line}`);
  }

  check(ok: boolean, pass: string, failure: string): void {
    if (ok) this.fact(pass);
    else this.fail(failure);
  }
}

export interface ScenarioContext {
  run: string;
  quick: boolean;
  seed: number;
}

export interface Scenario {
  id: number;
  title: string;
  /** Stops shared services (Kafka or ClickHouse). */
  stopsServices: boolean;
  run(ctx: ScenarioContext, report: Report): Promise<void>;
}

/** mulberry32: a small seeded PRNG so every random choice of a run can be replayed with --seed. */
export class Rand {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}
