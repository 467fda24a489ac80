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
import { Http2FingerprintKey, server } from "../src/index.js";

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

/** Whether Debian's Python h2 is here (skips loudly; fails under CI=true). */
async function pythonH2(): Promise<boolean> {
  const ci = process.env.CI === "true";
  if (!existsSync("/usr/bin/python3")) {
    if (ci) throw new Error("/usr/bin/python3 missing");
    process.stderr.write("\n!!! SKIPPING: /usr/bin/python3 missing\n");
    return false;
  }
  const probe = await run("/usr/bin/python3", ["-c", "import h2"]);
  if (probe.code !== 0) {
    if (ci) throw new Error("python3-h2 missing");
    process.stderr.write("\n!!! SKIPPING: python3-h2 missing (apt-get install python3-h2)\n");
    return false;
  }
  return true;
}

const app = service(async (req: Request) => {
  if (req.method === "POST") {
    const body = await req.body.bytes();
    return Response.text(`posted ${body.length}`);
  }
  if (req.path === "/big") return Response.text("b".repeat(1_000_000));
  if (req.path === "/fp") return Response.json(req.extensions.get(Http2FingerprintKey)?.akamai ?? null);
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
    if (!(await pythonH2())) return;
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
  it("Python h2: the fingerprint we report matches one computed in Python over the bytes h2 sent", async () => {
    if (!(await pythonH2())) return;
    const script = `import socket, sys, json, h2.connection, h2.events, h2.config, h2.settings
from hyperframe.frame import Frame, SettingsFrame, WindowUpdateFrame, PriorityFrame, HeadersFrame
port = ${port}
s = socket.create_connection(("127.0.0.1", port))
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
c.local_settings = h2.settings.Settings(client=True, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 250, h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 131072})
c.initiate_connection()
c.increment_flow_control_window(1000000)
c.prioritize(3, weight=42, depends_on=0, exclusive=False)
c.prioritize(5, weight=7, depends_on=3, exclusive=True)
c.send_headers(1, [(":method", "GET"), (":path", "/fp"), (":scheme", "http"), (":authority", "py")], end_stream=True)
out = c.data_to_send()
# Independent computation of the Akamai string over the bytes h2 wrote.
buf = out[24:]
S, WU, P, PS = None, None, [], None
while buf:
    f, length = Frame.parse_frame_header(buf[:9]); f.parse_body(memoryview(buf[9:9+length])); buf = buf[9+length:]
    if isinstance(f, SettingsFrame) and S is None: S = ";".join(f"{k}:{v}" for k, v in f.settings.items())
    elif isinstance(f, WindowUpdateFrame) and f.stream_id == 0 and WU is None: WU = str(f.window_increment)
    elif isinstance(f, PriorityFrame): P.append(f"{f.stream_id}:{1 if f.exclusive else 0}:{f.depends_on}:{f.stream_weight + 1}")
    elif isinstance(f, HeadersFrame): break
expected = "|".join([S, WU or "00", ",".join(P) or "0", "m,p,s,a"])
s.sendall(out)
body = b""
done = False
while not done:
    data = s.recv(65536)
    if not data: break
    for e in c.receive_data(data):
        if isinstance(e, h2.events.DataReceived): body += e.data; c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        elif isinstance(e, h2.events.StreamEnded): done = True
    s.sendall(c.data_to_send())
s.close()
print(json.dumps({"expected": expected, "got": json.loads(body)}))
`;
    const res = await run("/usr/bin/python3", ["-c", script]);
    expect(res.stderr).toBe("");
    const { expected, got } = JSON.parse(res.stdout) as { expected: string; got: string };
    expect(expected).toMatch(/\|1000000\|3:0:0:42,5:1:3:7\|m,p,s,a$/);
    expect(got).toBe(expected);
  });
});
