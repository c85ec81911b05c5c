// How many warm spares one key should have now: enough for recent demand while a new one warms up, between the
// tier's min and max, within the memory budget, and back to the min once demand has gone quiet.
export interface SizerOptions {
  /** How long a new spare takes to be ready (s): demand during that time must already be covered. */
  warmupS: number;
  /** With no request for this long (s), only `min` spares are kept. */
  idleS: number;
  /** Time constant of the arrival-rate average (s). */
  tauS: number;
}

// Tracks the arrival rate of one key's requests (an exponentially weighted average) and turns it into a pool size.
export class SpareSizer {
  private rate = 0;
  private at?: number;

  // `bounds` is read at each decision, so the owner may change it in place.
  constructor(
    private readonly bounds: { min: number; max: number },
    private readonly o: SizerOptions,
  ) {}

  // One request arrived (whether a spare served it or not).
  arrival(now = Date.now()): void {
    this.rate = this.rateAt(now) + 1 / this.o.tauS;
    this.at = now;
  }

  // Requests per second, decayed to `now`.
  rateAt(now = Date.now()): number {
    return this.at === undefined ? 0 : this.rate * Math.exp(-(now - this.at) / 1000 / this.o.tauS);
  }

  // The size the pool should have now; `memoryCap` is how many spares the memory budget allows.
  target(memoryCap: number, now = Date.now()): number {
    const idle = this.at === undefined || now - this.at > this.o.idleS * 1000;
    // Twice the requests expected while a spare warms up: a burst must not find the pool empty.
    const { min, max } = this.bounds;
    const wanted = idle ? min : Math.ceil(this.rateAt(now) * this.o.warmupS * 2);
    return Math.max(0, Math.min(Math.max(wanted, min), max, memoryCap));
  }
}
