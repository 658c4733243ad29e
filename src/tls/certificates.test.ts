import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createMeshCertificates, NOT_BEFORE_SLACK_MS, VALIDITY_MS } from "./certificates.js";

const NOW = new Date("2026-12-07T22:00:00Z");
const certs = await createMeshCertificates({
  runId: "mq-test-1",
  now: NOW,
  pods: [
    { service: "checkout", index: 0 },
    { service: "payments", index: 1 },
  ],
});

describe("createMeshCertificates", () => {
  const ca = new X509Certificate(certs.caPem);

  it("makes a CA named for the run, valid around now", () => {
    expect(ca.subject).toBe("CN=meshquake mq-test-1 CA");
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(new Date(ca.validFrom).getTime()).toBe(NOW.getTime() - NOT_BEFORE_SLACK_MS);
    expect(new Date(ca.validTo).getTime()).toBe(NOW.getTime() + VALIDITY_MS);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("gives every pod a certificate for its service, signed by the CA, for both ends of a connection", () => {
    expect(certs.pods.map((p) => [p.service, p.index])).toEqual([
      ["checkout", 0],
      ["payments", 1],
    ]);
    const pay = new X509Certificate(certs.pods[1]!.certificatePem);
    expect(pay.subject).toBe("CN=payments");
    expect(pay.issuer).toBe(ca.subject);
    expect(pay.ca).toBe(false);
    expect(pay.checkIssued(ca)).toBe(true);
    expect(pay.verify(ca.publicKey)).toBe(true);
    expect(pay.verify(new X509Certificate(certs.pods[0]!.certificatePem).publicKey)).toBe(false);
    expect(pay.subjectAltName).toBe("DNS:payments, DNS:payments-1, URI:spiffe://meshquake/payments");
    expect(pay.checkHost("payments")).toBe("payments");
    expect(pay.checkHost("checkout")).toBeUndefined();
    expect(pay.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(pay.validFrom).toBe(ca.validFrom);
    expect(pay.validTo).toBe(ca.validTo);
    expect(pay.serialNumber).not.toBe(ca.serialNumber);
  });

  it("writes each pod's certificate then its matching private key in one PEM (HAProxy's crt file)", () => {
    for (const pod of certs.pods) {
      expect(pod.pem.startsWith(pod.certificatePem)).toBe(true);
      expect(pod.pem).toMatch(/-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
      const key = createPrivateKey(pod.pem.slice(pod.certificatePem.length));
      const fromKey = createPublicKey(key).export({ type: "spki", format: "der" });
      expect(Buffer.compare(fromKey, new X509Certificate(pod.certificatePem).publicKey.export({ type: "spki", format: "der" }))).toBe(0);
    }
    expect(certs.caPem).not.toContain("PRIVATE KEY");
  });

  it("refuses names that cannot be a certificate's", async () => {
    await expect(createMeshCertificates({ runId: "a b", now: NOW, pods: [] })).rejects.toThrow(/cannot name a CA/);
    await expect(createMeshCertificates({ runId: "r", now: NOW, pods: [{ service: "Bad,CN=x", index: 0 }] })).rejects.toThrow(/not a DNS label/);
  });
});
