import { connect } from "node:net";
import type { AdminChannel } from "../dataplane/types.js";

/**
 * One command per TCP connection to a sidecar's runtime API (HAProxy's stats socket in
 * non-interactive mode answers and closes). Through a port published on 127.0.0.1.
 */
export function tcpAdminChannel(port: number, host = "127.0.0.1", timeoutMs = 5000): AdminChannel {
  return {
    send(command: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = connect({ host, port });
        const chunks: Buffer[] = [];
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`admin command timed out after ${timeoutMs} ms: ${command}`)));
        socket.on("connect", () => socket.end(`${command}\n`));
        socket.on("data", (c) => chunks.push(c));
        socket.on("error", reject);
        socket.on("close", (hadError) => {
          if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
        });
      });
    },
  };
}
