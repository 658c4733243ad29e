// The run's mesh identities: a CA made for the run and one certificate per pod, signed by it, for
// mutual TLS between the sidecars (docs/mtls.md). Generation only: no file is read or written here
// (runtime/tls-files.ts puts them in the pods' directories), and the CA's private key never leaves
// this module's memory. ECDSA P-256 with SHA-256, through WebCrypto (Node's own), and
// @peculiar/x509 for the certificates' encoding: pure TypeScript on WebCrypto, no native code and
// no openssl process. Its dependency injection (tsyringe) needs a Reflect metadata polyfill,
// loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";

/** ECDSA on P-256, signing with SHA-256 (what Istio's and Linkerd's workload certificates use). */
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** The SPIFFE trust domain of every run (Istio's default is cluster.local). */
export const TRUST_DOMAIN = "meshquake";
/** How long before `now` certificates are valid from: clocks of the containers may lag a little. */
export const NOT_BEFORE_SLACK_MS = 60 * 60 * 1000;
/** How long certificates stay valid: longer than any run. */
export const VALIDITY_MS = 24 * 60 * 60 * 1000;

export interface PodIdentity {
  service: string;
  index: number;
}

/** One pod's credentials: its certificate then its private key, in one PEM file (HAProxy's `crt` format). */
export interface PodCredentials extends PodIdentity {
  pem: string;
  /** The certificate alone. */
  certificatePem: string;
}

export interface MeshCertificates {
  /** The CA's certificate: what every sidecar trusts, and only it. */
  caPem: string;
  pods: PodCredentials[];
}

export interface CertificateOptions {
  runId: string;
  pods: readonly PodIdentity[];
  /** Validity counts from here. */
  now: Date;
  /** Where key pairs come from (default: a fresh P-256 pair from WebCrypto each time). */
  generateKeys?: () => Promise<CryptoKeyPair>;
}

/** The SPIFFE id a service's pods present: spiffe://meshquake/<service>. */
export function spiffeId(service: string): string {
  return `spiffe://${TRUST_DOMAIN}/${service}`;
}

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** A CA for the run and a certificate per pod (server and client, for the pod's service). */
export async function createMeshCertificates(opts: CertificateOptions): Promise<MeshCertificates> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(opts.runId)) throw new Error(`run id "${opts.runId}" cannot name a CA (letters, digits, . _ -)`);
  const keys = opts.generateKeys ?? generateKeyPair;
  const crypto = webcrypto as unknown as Crypto;
  const notBefore = new Date(opts.now.getTime() - NOT_BEFORE_SLACK_MS);
  const notAfter = new Date(opts.now.getTime() + VALIDITY_MS);
  const caKeys = await keys();
  const caName = `CN=meshquake ${opts.runId} CA`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: caName,
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        // Signs pod certificates only: no intermediate below it.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pods: PodCredentials[] = [];
  for (const pod of opts.pods) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(pod.service)) throw new Error(`service "${pod.service}" is not a DNS label`);
    const podKeys = await keys();
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject: `CN=${pod.service}`,
        issuer: ca.subject,
        notBefore,
        notAfter,
        publicKey: podKeys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
          // The service name is what a caller's sidecar checks (HAProxy's verifyhost reads dNSName
          // entries); the SPIFFE id is the identity Istio and Linkerd put in their certificates.
          new x509.SubjectAlternativeNameExtension(
            [
              { type: "dns", value: pod.service },
              { type: "dns", value: `${pod.service}-${pod.index}` },
              { type: "url", value: spiffeId(pod.service) },
            ],
            false,
          ),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const certificatePem = cert.toString("pem");
    pods.push({ service: pod.service, index: pod.index, certificatePem, pem: `${certificatePem}\n${await privateKeyPem(podKeys.privateKey)}` });
  }
  return { caPem: `${ca.toString("pem")}\n`, pods: pods.map((p) => ({ ...p, certificatePem: `${p.certificatePem}\n`, pem: `${p.pem}\n` })) };
}

/** 16 random bytes, the first below 0x80: a positive serial, as RFC 5280 asks. */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return Buffer.from(bytes).toString("hex");
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const lines = der.toString("base64").match(/.{1,64}/g)!;
  return ["-----BEGIN PRIVATE KEY-----", ...lines, "-----END PRIVATE KEY-----"].join("\n");
}
