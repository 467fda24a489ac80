// Reference servers for the client tests: node:http (the peer a user would talk to) and a raw node:net server
// that answers with scripted bytes (for what node:http will not send: broken responses, closes mid-way).
import http from "node:http";
import net from "node:net";

export interface TestServer {
  readonly port: number;
  readonly server: http.Server | net.Server;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections open right now. */
  open(): number;
  /** Resolves once no connection is open (bounded by `ms`). */
  drained(ms?: number): Promise<void>;
  url(path?: string): string;
  close(): Promise<void>;
}

function track(server: http.Server | net.Server, port: number): TestServer {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on("connection", (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    port,
    server,
    accepted: () => accepted,
    open: () => sockets.size,
    async drained(ms = 2000) {
      const until = Date.now() + ms;
      while (sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    },
    url: (path = "/") => `http://127.0.0.1:${port}${path}`,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** A node:http server on 127.0.0.1 with `handler`; counts connections. */
export async function nodeServer(
  handler: http.RequestListener,
  options: http.ServerOptions = {},
  setup?: (server: http.Server) => void,
): Promise<TestServer> {
  const server = http.createServer(options, handler);
  setup?.(server);
  return track(server, await listen(server));
}

/**
 * A raw TCP server: `onRequest(socket, index, head)` is called for every request head (up to the blank line) that
 * arrives on a connection (`index` counts heads on that connection from 0); request bodies are not framed, so
 * use it for requests without a body.
 */
export async function rawServer(
  onRequest: (socket: net.Socket, index: number, head: string) => void,
): Promise<TestServer> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let buffered = "";
    let index = 0;
    socket.setEncoding("latin1");
    socket.on("error", () => {});
    // Half-open so a test can answer after the client's FIN, but closed once the client has gone.
    socket.on("end", () => socket.end());
    socket.on("data", (data: string) => {
      buffered += data;
      for (let end = buffered.indexOf("\r\n\r\n"); end >= 0; end = buffered.indexOf("\r\n\r\n")) {
        const head = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        onRequest(socket, index++, head);
      }
    });
  });
  return track(server, await listen(server));
}

/** Read a whole node:http request body as a string. */
export async function readAll(req: http.IncomingMessage): Promise<string> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}
