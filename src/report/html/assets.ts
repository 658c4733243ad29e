// uPlot's minified build and stylesheet, read from the installed package once and inlined
// into every report: the HTML must open from disk with no network.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export interface Assets {
  uplotJs: string;
  uplotCss: string;
}

let cached: Assets | undefined;

export function loadAssets(): Assets {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), "utf8");
    const uplotJs = read("uPlot.iife.min.js");
    // Inlined into <script>: a closing tag or comment opener in the library would end it early.
    if (/<\/script|<!--/i.test(uplotJs)) throw new Error("uPlot build contains </script or <!--; cannot inline it safely");
    cached = { uplotJs, uplotCss: read("uPlot.min.css") };
  }
  return cached;
}
