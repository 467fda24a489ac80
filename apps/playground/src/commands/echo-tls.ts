import type { Service } from "@tessera/core";
import type { Request } from "@tessera/http";
import { Alpn, type Conn, Sni } from "@tessera/net";
import {
  Fingerprints,
  selfSignedCertificate,
  type TlsServerConfig,
  TlsSessionKey,
  tlsAcceptor,
} from "@tessera/tls";
import { fileOption, type OptionSpec, type Parsed, UsageError } from "../args.js";

// The TLS part of `tessera echo`: options, the acceptor in front of the HTTP server, and the TLS facts in the
// JSON document. Kept apart from echo.ts so the HTTP echo stays readable on its own.

export const echoTlsOptionSpec = {
  tls: { type: "boolean" },
  cert: { type: "string" },
  key: { type: "string" },
} as const satisfies Record<string, OptionSpec>;

export const echoTlsHelp = `TLS options:
  --tls                   serve HTTPS (h2 and http/1.1 by ALPN); the JSON adds the TLS facts and fingerprints
  --cert FILE --key FILE  certificate chain and key (PEM) [a fresh self-signed one for localhost, 127.0.0.1, ::1]`;

/** What `tessera echo --tls` adds to its JSON document. */
export interface EchoTlsFields {
  readonly sni: string | null;
  readonly alpn: string | null;
  readonly version: string;
  readonly cipher: string;
  readonly ja3: string;
  readonly ja3Hash: string;
  readonly ja4: string;
  readonly ja4Raw: string;
}

/** The TLS facts of the connection a request came on, or undefined for cleartext. */
export function echoTlsFields(req: Request): EchoTlsFields | undefined {
  const session = req.extensions.get(TlsSessionKey);
  if (session === undefined) return undefined;
  const fingerprints = req.extensions.get(Fingerprints);
  return {
    sni: req.extensions.get(Sni) ?? null,
    alpn: req.extensions.get(Alpn) ?? null,
    version: session.version,
    cipher: session.cipher,
    ja3: fingerprints?.ja3.string ?? "",
    ja3Hash: fingerprints?.ja3.hash ?? "",
    ja4: fingerprints?.ja4.fingerprint ?? "",
    ja4Raw: fingerprints?.ja4.raw ?? "",
  };
}

function certificateOf(args: Parsed<typeof echoTlsOptionSpec>): TlsServerConfig {
  if ((args.cert === undefined) !== (args.key === undefined))
    throw new UsageError("--cert and --key go together");
  if (args.cert === undefined || args.key === undefined) return selfSignedCertificate();
  return { cert: fileOption(args.cert, "cert"), key: fileOption(args.key, "key") };
}

/** `server` behind TLS when --tls is given (h2 preferred by ALPN), else `server` itself. */
export function withEchoTls(
  args: Parsed<typeof echoTlsOptionSpec>,
  server: Service<Conn, void>,
): Service<Conn, void> {
  if (args.tls !== true) {
    if (args.cert !== undefined || args.key !== undefined)
      throw new UsageError("--cert and --key need --tls");
    return server;
  }
  const config: TlsServerConfig = { ...certificateOf(args), alpn: ["h2", "http/1.1"] };
  return tlsAcceptor({ config }).layer(server);
}
