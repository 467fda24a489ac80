// A minimal stand-in HTTP proxy on node:http for the client tests: CONNECT tunnels (the 'connect' event) and
// absolute-form forwarding of plain http, with optional Basic credentials. It records what it was asked.
import http from "node:http";
import net from "node:net";

export interface StandInProxy {
  readonly port: number;
  readonly url: string;
  /** CONNECT targets, in order. */
  readonly connects: string[];
  /** Absolute-form request targets forwarded, in order. */
  readonly forwarded: string[];
  /** Proxy-Authorization values seen (CONNECT and forwarded). */
  readonly credentials: (string | undefined)[];
  /** Client connections accepted. */
  accepted(): number;
  close(): Promise<void>;
}

export async function standInProxy(options: { authorization?: string } = {}): Promise<StandInProxy> {
  const connects: string[] = [];
  const forwarded: string[] = [];
  const credentials: (string | undefined)[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const denied = (auth: string | undefined): boolean =>
    options.authorization !== undefined && auth !== options.authorization;

  const server = http.createServer((req, res) => {
    const auth = req.headers["proxy-authorization"];
    credentials.push(auth);
    forwarded.push(req.url ?? "");
    if (denied(auth)) {
      res.writeHead(407, { "Proxy-Authenticate": 'Basic realm="test"', "Content-Length": "0" }).end();
      return;
    }
    const url = new URL(req.url ?? "");
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "Content-Length": "0" }).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = req.headers["proxy-authorization"];
    credentials.push(auth);
    connects.push(req.url ?? "");
    client.on("error", () => {});
    if (denied(auth)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const colon = (req.url ?? "").lastIndexOf(":");
    const host = (req.url ?? "").slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number((req.url ?? "").slice(colon + 1));
    const upstream = net.connect(port, host, () => {
      // Established first, then 200 (DESIGN 3), then bytes both ways.
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => {
      if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    });
    client.on("close", () => upstream.destroy());
  });
  server.on("connection", (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
  );
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    forwarded,
    credentials,
    accepted: () => accepted,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
