// The selective-install promise: a user installs `@tessera/core` alone (or with one protocol package) from the
// packed tarballs with plain npm, imports it, calls it, and type-checks against the shipped .d.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const pnpm = join(root, ".ci/.tools/node_modules/.bin/pnpm");
const tsc = join(root, "node_modules/typescript/bin/tsc");
let work: string;
const tarballs = new Map<string, string>();

function pack(pkg: string): string {
  execFileSync(pnpm, ["pack", "--pack-destination", work], {
    cwd: join(root, "packages", pkg),
    stdio: "pipe",
  });
  const file = readdirSync(work).find((f) => f.startsWith(`tessera-${pkg}-`) && f.endsWith(".tgz"));
  if (!file) throw new Error(`pnpm pack produced no tarball for ${pkg}`);
  return join(work, file);
}

function project(name: string, deps: string[]): string {
  const dir = join(work, name);
  execFileSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...deps.map((d) => tarballs.get(d)!)],
    {
      cwd: dir,
      stdio: "pipe",
    },
  );
  return dir;
}

function typecheck(dir: string, source: string): void {
  writeFileSync(join(dir, "check.ts"), source);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        types: [],
      },
      files: ["check.ts"],
    }),
  );
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: dir, stdio: "pipe" });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "tessera-pack-"));
  for (const pkg of ["core", "net"]) tarballs.set(pkg, pack(pkg));
}, 60_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("packaging", () => {
  it("a tarball holds dist, README and package.json, and no sources or tests", () => {
    const listing = execFileSync("tar", ["tzf", tarballs.get("core")!], { encoding: "utf8" }).split("\n");
    expect(listing).toContain("package/dist/index.js");
    expect(listing).toContain("package/dist/index.d.ts");
    expect(listing).toContain("package/README.md");
    expect(listing.some((f) => f.startsWith("package/src/") || f.startsWith("package/test/"))).toBe(false);
  });

  it("@tessera/core installs alone with npm, imports, runs and type-checks", () => {
    const dir = project("core-alone", ["core"]);
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { service, stack, sameLayer, Extensions, key, TimeoutError } from "@tessera/core";
         if (new TimeoutError().name !== "TimeoutError") throw new Error("bundled class renamed: " + new TimeoutError().name);
         const double = sameLayer((inner) => ({ serve: async (n) => 2 * (await inner.serve(n)) }));
         const ext = new Extensions().insert(key("pack.K"), 1);
         console.log(await stack(double).into(service((n) => n + 1)).serve(20), ext.get(key("pack.K")));`,
      ],
      { cwd: dir, encoding: "utf8" },
    );
    expect(out.trim()).toBe("42 1");
    expect(readdirSync(join(dir, "node_modules/@tessera"))).toEqual(["core"]);
    typecheck(
      dir,
      `import { type Service, service, stack, identity } from "@tessera/core";
       const s: Service<number, string> = stack(identity()).into(service((n: number) => String(n)));
       // @ts-expect-error the shipped types reject a wrong input type
       s.serve("not a number");`,
    );
  }, 60_000);

  it("@tessera/net installs with core from tarballs and serves a real connection", () => {
    const dir = project("net-and-core", ["core", "net"]);
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { service } from "@tessera/core";
         import { listen, tcpConnector, connectRequest } from "@tessera/net";
         const echo = service(async (conn) => { conn.stream.pipe(conn.stream); await new Promise((r) => conn.stream.once("close", r)); });
         const listener = await listen({ host: "127.0.0.1", port: 0 }, echo);
         const conn = await tcpConnector().serve(connectRequest({ host: "127.0.0.1", port: listener.address.port }));
         const refused = await tcpConnector().serve(connectRequest({ host: "127.0.0.1", port: 1 })).catch((e) => e);
         if (refused.name !== "ConnectionRefusedError" || refused.code !== "ERR_NET_CONNECTION_REFUSED") throw refused;
         conn.stream.end("ping");
         let got = "";
         for await (const chunk of conn.stream) got += chunk;
         console.log(got);
         await listener.close({ timeout: 1000 });`,
      ],
      { cwd: dir, encoding: "utf8", timeout: 20_000 },
    );
    expect(out.trim()).toBe("ping");
  }, 60_000);
});
