// Who hears of a change of any task (the board's live view), besides the listeners of each task.
export class ChangeHub {
  private readonly listeners = new Set<(id: string) => void>();

  emit(id: string): void {
    for (const l of [...this.listeners]) l(id);
  }

  // Adds a listener; the unsubscribe also ends `alsoOff` (a subscription elsewhere made for the same listener).
  watch(listener: (id: string) => void, alsoOff?: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      alsoOff?.();
    };
  }
}
