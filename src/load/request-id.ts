// Every client request carries its own x-request-id (the fixture forwards it on every call and
// the sidecars log it), so a failed request can be traced hop by hop: `<prefix>-<n in base 36>`.
import { randomBytes } from "node:crypto";

export const REQUEST_ID_HEADER = "x-request-id";

/** A fresh prefix: 8 random characters, so two runs never share ids. */
export function newRequestIdPrefix(): string {
  return randomBytes(6).toString("base64url");
}
