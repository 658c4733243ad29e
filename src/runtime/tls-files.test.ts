import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ExecutionPlan, PodPlan } from "../plan/types.js";
import { createRunDir } from "./run-dir.js";
import { writePodCredentials } from "./tls-files.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const pod = (service: string, index: number, mtls: boolean) => ({ service, index, id: `${service}-${index}`, ...(mtls ? { mtls: true } : {}) }) as PodPlan;

describe("writePodCredentials", () => {
  it("writes each pod's certificate and the CA into its directory's tls/, and no CA key anywhere", async () => {
    const base = await mkdtemp(join(tmpdir(), "mq-tls-"));
    dirs.push(base);
    const runDir = await createRunDir("mq-tls-1", { pid: process.pid, host: "h", started: "" }, { base, sidecarUid: 1337, pods: 2 });
    const plan = { runId: "mq-tls-1", pods: [pod("a", 0, true), pod("b", 0, true)] } as ExecutionPlan;
    expect(await writePodCredentials(runDir, plan, { sidecarUid: 1337 })).toBe(2);
    const asRoot = process.getuid?.() === 0;
    for (const [i, service] of [[0, "a"], [1, "b"]] as const) {
      const dir = join(await runDir.podDir(i), "tls");
      expect((await readdir(dir)).sort()).toEqual(["ca.pem", "pod.pem"]);
      const pem = await readFile(join(dir, "pod.pem"), "utf8");
      const cert = new X509Certificate(pem);
      expect(cert.subject).toBe(`CN=${service}`);
      expect(cert.verify(new X509Certificate(await readFile(join(dir, "ca.pem"), "utf8")).publicKey)).toBe(true);
      expect(pem).toContain("PRIVATE KEY");
      const st = await stat(join(dir, "pod.pem"));
      expect(st.mode & 0o777).toBe(asRoot ? 0o600 : 0o644);
      if (asRoot) expect(st.uid).toBe(1337);
    }
    // Only the pods' files: the CA's key is nowhere in the run directory.
    const all = await readdir(runDir.path, { recursive: true });
    for (const f of all.filter((f) => f.endsWith(".pem"))) {
      const keys = (await readFile(join(runDir.path, f), "utf8")).split("BEGIN PRIVATE KEY").length - 1;
      expect(keys, f).toBe(f.endsWith("ca.pem") ? 0 : 1);
    }
    await runDir.remove();
    await expect(stat(runDir.path)).rejects.toThrow();
  });

  it("writes nothing when no pod has mTLS", async () => {
    const base = await mkdtemp(join(tmpdir(), "mq-tls-"));
    dirs.push(base);
    const runDir = await createRunDir("mq-tls-2", { pid: process.pid, host: "h", started: "" }, { base, sidecarUid: 1337, pods: 1 });
    expect(await writePodCredentials(runDir, { runId: "mq-tls-2", pods: [pod("a", 0, false)] } as ExecutionPlan, { sidecarUid: 1337 })).toBe(0);
    expect(await readdir(runDir.path)).toEqual(["owner.json"]);
  });
});
