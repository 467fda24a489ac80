// Real peers against the server on 127.0.0.1: curl and nghttp (nghttp2), h2load, and Debian's Python h2 as a
// strict client. A missing peer skips loudly, and fails under CI=true (see support/peers.ts).
import { execFile } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { type InetSocketAddress, type Listener, listen } from "@tessera/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import { server } from "../src/index.js";

function run(
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: 15_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const app = service(async (req: Request) => {
  if (req.method === "POST") {
    const body = await req.body.bytes();
    return Response.text(`posted ${body.length}`);
  }
  if (req.path === "/big") return Response.text("b".repeat(1_000_000));
  return Response.text(`hello ${req.path} over ${req.version}`, { headers: [["X-Test", "yes"]] });
});

let listener: Listener;
let base: string;
let port: number;

beforeAll(async () => {
  listener = await listen({ host: "127.0.0.1", port: 0 }, server(app));
  port = (listener.address as InetSocketAddress).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await listener.close({ timeout: 2000 });
});

describe("interop", () => {
  it("curl --http2-prior-knowledge: GET, a 1 MB body, and a POST", async () => {
    if (!peer("curl")) return;
    const get = await run("curl", ["-sS", "--http2-prior-knowledge", "-i", `${base}/x`]);
    expect(get.stderr).toBe("");
    expect(get.stdout).toMatch(/^HTTP\/2 200/);
    expect(get.stdout).toMatch(/x-test: yes/);
    expect(get.stdout).toMatch(/hello \/x over HTTP\/2$/);
    const big = await run("curl", ["-sS", "--http2-prior-knowledge", `${base}/big`]);
    expect(big.stdout.length).toBe(1_000_000);
    const post = await run(
      "curl",
      ["-sS", "--http2-prior-knowledge", "--data-binary", "@-", `${base}/up`],
      "p".repeat(300_000),
    );
    expect(post.stdout).toBe("posted 300000");
  });

  it("nghttp: several concurrent requests and an upload", async () => {
    if (!peer("nghttp")) return;
    const res = await run("nghttp", ["-n", "-s", `${base}/a`, `${base}/b`, `${base}/big`]);
    expect(res.stderr).not.toMatch(/error|GOAWAY/i);
    expect(res.code).toBe(0);
    const file = join(tmpdir(), `tessera-h2-upload-${process.pid}.bin`);
    writeFileSync(file, Buffer.alloc(500_000, 7));
    try {
      const upload = await run("nghttp", ["-d", file, `${base}/up`]);
      expect(upload.stdout).toBe("posted 500000");
    } finally {
      rmSync(file, { force: true });
    }
    const verbose = await run("nghttp", ["-v", `${base}/v`]);
    expect(verbose.stdout).toMatch(/hello \/v over HTTP\/2/);
    expect(verbose.stdout).toMatch(/recv SETTINGS frame/);
  });

  it("h2load: 2000 requests over 4 connections, all succeed", async () => {
    if (!peer("h2load")) return;
    const res = await run("h2load", ["-n", "2000", "-c", "4", "-m", "20", `${base}/load`]);
    expect(res.stdout).toMatch(/2000 succeeded, 0 failed, 0 errored/);
  });

  it("Python h2 (strict client): GET and POST with flow control", async () => {
    if (!existsSync("/usr/bin/python3")) {
      if (process.env.CI === "true") throw new Error("/usr/bin/python3 missing");
      process.stderr.write("\n!!! SKIPPING: /usr/bin/python3 missing\n");
      return;
    }
    const probe = await run("/usr/bin/python3", ["-c", "import h2"]);
    if (probe.code !== 0) {
      if (process.env.CI === "true") throw new Error("python3-h2 missing");
      process.stderr.write("\n!!! SKIPPING: python3-h2 missing (apt-get install python3-h2)\n");
      return;
    }
    const script = `
import socket, sys, h2.connection, h2.events, h2.config
s = socket.create_connection(("127.0.0.1", ${port}))
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
c.initiate_connection()
c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "py"), (":path", "/py")], end_stream=True)
c.send_headers(3, [(":method", "POST"), (":scheme", "http"), (":authority", "py"), (":path", "/up")])
payload = b"q" * 200000
sent = 0
s.sendall(c.data_to_send())
bodies = {1: b"", 3: b""}
status = {}
ended = set()
while len(ended) < 2:
    while sent < len(payload):
        n = min(c.local_flow_control_window(3), c.max_outbound_frame_size, len(payload) - sent)
        if n <= 0: break
        c.send_data(3, payload[sent:sent+n]); sent += n
        if sent == len(payload): c.end_stream(3)
    s.sendall(c.data_to_send())
    data = s.recv(65536)
    if not data: break
    for e in c.receive_data(data):
        if isinstance(e, h2.events.ResponseReceived): status[e.stream_id] = dict(e.headers)[":status"]
        elif isinstance(e, h2.events.DataReceived):
            bodies[e.stream_id] += e.data
            c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        elif isinstance(e, h2.events.StreamEnded): ended.add(e.stream_id)
        elif isinstance(e, (h2.events.StreamReset, h2.events.ConnectionTerminated)): print("FAIL", e); sys.exit(1)
    s.sendall(c.data_to_send())
c.close_connection(); s.sendall(c.data_to_send()); s.close()
print(status[1], bodies[1].decode(), "|", status[3], bodies[3].decode())
`;
    const res = await run("/usr/bin/python3", ["-c", script]);
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe("200 hello /py over HTTP/2 | 200 posted 200000");
  });
});
