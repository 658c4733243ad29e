/**
 * Paired setup/teardown: a step registers its undo before it starts, and `unwind` runs every undo
 * newest first, always, collecting errors instead of letting one hide the rest or the run's own error.
 *
 * In a hurry (a second Ctrl-C): the steps that are only tidiness (reverting faults one by one,
 * draining log streams) are skipped, or abandoned if already running, and only the `essential`
 * ones run — removing the containers, which takes every fault and rule with them.
 */
export class TeardownStack {
  private readonly steps: Array<{ name: string; undo: () => Promise<unknown>; essential: boolean }> = [];

  push(name: string, undo: () => Promise<unknown>, opts: { essential?: boolean } = {}): void {
    this.steps.push({ name, undo, essential: opts.essential ?? false });
  }

  async unwind(hurry?: AbortSignal): Promise<string[]> {
    const errors: string[] = [];
    while (this.steps.length) {
      const { name, undo, essential } = this.steps.pop()!;
      if (!essential && hurry?.aborted) continue;
      try {
        await (essential || !hurry ? undo() : abandonOnHurry(undo(), hurry));
      } catch (err) {
        if (err === HURRIED) continue;
        errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return errors;
  }
}

const HURRIED = Symbol("hurried");

function abandonOnHurry<T>(work: Promise<T>, hurry: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onHurry = () => reject(HURRIED);
    hurry.addEventListener("abort", onHurry, { once: true });
    if (hurry.aborted) onHurry();
    // An abandoned step's late failure is not news.
    work.then(resolve, reject).finally(() => hurry.removeEventListener("abort", onHurry));
  });
}
