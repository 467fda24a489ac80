import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCertificateAuthority } from "@tessera/tls";
import { parseArgs, UsageError } from "../args.js";
import type { Io } from "../io.js";
import type { Running } from "../serve.js";

export const caHelp = `tessera ca new --out DIR [--name NAME]

Create a certificate authority (ECDSA P-256, valid 10 years) for "tessera proxy --mitm": writes DIR/ca.pem (the
certificate, for clients to trust) and DIR/ca-key.pem (the private key, readable by you only).

  --out DIR       where to write the two files (created if missing; existing files are not overwritten)
  --name NAME     the CA's common name [Tessera MITM CA]

Try: tessera ca new --out ./ca && tessera proxy --mitm --ca-cert ./ca/ca.pem --ca-key ./ca/ca-key.pem
     curl --cacert ./ca/ca.pem -x http://HOST:PORT https://example.com/`;

export async function caCommand(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, {
    out: { type: "string" },
    name: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) {
    io.out(caHelp);
    return undefined;
  }
  const [sub, ...extra] = args._;
  if (sub !== "new" || extra.length > 0)
    throw new UsageError('usage: tessera ca new --out DIR (see "tessera ca --help")');
  if (args.out === undefined) throw new UsageError("--out DIR is required");
  const ca = createCertificateAuthority({ commonName: args.name ?? "Tessera MITM CA" });
  const certPath = join(args.out, "ca.pem");
  const keyPath = join(args.out, "ca-key.pem");
  try {
    mkdirSync(args.out, { recursive: true });
    // "wx": never overwrite a CA someone already trusts.
    writeFileSync(keyPath, ca.key, { mode: 0o600, flag: "wx" });
    writeFileSync(certPath, ca.cert, { flag: "wx" });
  } catch (error) {
    throw new UsageError(`cannot write the CA: ${(error as Error).message}`);
  }
  io.out(`wrote ${certPath}`);
  io.out(`wrote ${keyPath}`);
  return undefined;
}
