// A promise whose work starts only when it is needed: at the first then/catch/finally/await, or at start(). The stdio
// server hands it out as its engine, so the engine's load never delays the answer to tools/list (start-up benchmark).
export class OnDemand<T> extends Promise<T> {
  // Derived promises (then, catch, finally) are plain promises: only this one starts work.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  readonly #make: () => Promise<T>;
  readonly #settle: { resolve: (v: T) => void; reject: (e: unknown) => void };
  readonly #begun: { promise: Promise<void>; resolve: () => void };
  #started = false;

  constructor(make: () => Promise<T>) {
    let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
    super((resolve, reject) => (settle = { resolve, reject }));
    this.#make = make;
    this.#settle = settle;
    let begin!: () => void;
    this.#begun = { promise: new Promise<void>((resolve) => (begin = resolve)), resolve: begin };
  }

  // Whether the work has started.
  get started(): boolean {
    return this.#started;
  }

  // Settles when the work starts (without starting it).
  get begun(): Promise<void> {
    return this.#begun.promise;
  }

  // Starts the work once; later calls do nothing.
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#begun.resolve();
    try {
      this.#make().then(this.#settle.resolve, this.#settle.reject);
    } catch (err) {
      this.#settle.reject(err);
    }
  }

  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.start();
    return super.then(onfulfilled, onrejected);
  }
}
