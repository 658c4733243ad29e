// Memory sizes as `docker run --memory` takes them: a number and a binary unit ("256m", "1g",
// "512MiB", "1.5GiB"); k, m and g are powers of 1024 whichever spelling ("m", "mb", "mib").
export const MEMORY_SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmg])(?:i?b)?$/i;
/** The engine refuses less than 6 MiB. */
export const MEMORY_MIN_BYTES = 6 * 1024 ** 2;
export const MEMORY_MAX_BYTES = 256 * 1024 ** 3;

const UNIT = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** Bytes, or null when it is not a size in these words. */
export function parseMemorySize(text: string): number | null {
  const m = MEMORY_SIZE_PATTERN.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT[m[2]!.toLowerCase() as keyof typeof UNIT]);
}

/** "256 MiB", "1.5 GiB": for messages and the plan. */
export function formatMemorySize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(2)} GiB`;
  return `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
