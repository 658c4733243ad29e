/**
 * Paired setup/teardown: a step registers its undo before it starts, and `unwind` runs every undo
 * newest first, always, collecting errors instead of letting one hide the rest or the run's own error.
 */
export class TeardownStack {
  private readonly steps: Array<{ name: string; undo: () => Promise<unknown> }> = [];

  push(name: string, undo: () => Promise<unknown>): void {
    this.steps.push({ name, undo });
  }

  async unwind(): Promise<string[]> {
    const errors: string[] = [];
    while (this.steps.length) {
      const { name, undo } = this.steps.pop()!;
      try {
        await undo();
      } catch (err) {
        errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return errors;
  }
}
