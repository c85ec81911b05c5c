// Something built only when asked for: get() starts the work (once) and waits for it, start() starts it without
// waiting, and looking at it (started, begun) never starts it. The stdio server's engine is one, so loading the engine
// never delays the answer to tools/list (start-up benchmark), and a shutdown can skip an engine that never started.
export class OnDemand<T> {
  readonly #make: () => Promise<T>;
  readonly #begun: Promise<void>;
  #begin!: () => void;
  #value: Promise<T> | undefined;

  constructor(make: () => Promise<T>) {
    this.#make = make;
    this.#begun = new Promise<void>((resolve) => (this.#begin = resolve));
  }

  // One already built (the HTTP server builds its engine before it serves).
  static of<T>(value: T): OnDemand<T> {
    const built = new OnDemand(async () => value);
    built.start();
    return built;
  }

  // Whether the work has started.
  get started(): boolean {
    return this.#value !== undefined;
  }

  // Settles when the work starts (without starting it).
  get begun(): Promise<void> {
    return this.#begun;
  }

  // Starts the work once and waits for it; a maker that throws at once rejects instead of throwing.
  get(): Promise<T> {
    if (!this.#value) {
      this.#value = (async () => this.#make())();
      this.#begin();
    }
    return this.#value;
  }

  // Starts the work without waiting for it (a failure is seen by whoever calls get()).
  start(): void {
    this.get().catch(() => {});
  }
}
