// What a run holds while it lasts (a breaker probe, a temp file, an active-task marker, a slot), released
// together in one `finally`, each exactly once, newest first; one failing release never skips the others.
export class Leases {
  private readonly held: Array<{ name: string; release: () => unknown }> = [];
  private released = false;

  constructor(private readonly onError: (name: string, err: unknown) => void = () => {}) {}

  // Holds one thing until releaseAll; added after the release, it is released at once.
  add(name: string, release: () => unknown): void {
    if (this.released) void this.releaseOne({ name, release });
    else this.held.push({ name, release });
  }

  async releaseAll(): Promise<void> {
    this.released = true;
    const all = this.held.splice(0).reverse();
    for (const lease of all) await this.releaseOne(lease);
  }

  private async releaseOne(lease: { name: string; release: () => unknown }): Promise<void> {
    try {
      await lease.release();
    } catch (err) {
      this.onError(lease.name, err);
    }
  }
}
