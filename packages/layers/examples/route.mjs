// node examples/route.mjs: dispatch by matchers composed with and/or/not; everything else goes to the app.
import { pathToFileURL } from "node:url";
import { Extensions, key, service, stack } from "@tessera/core";
import { and, either, hasExtension, not, or, route } from "@tessera/layers/route";

const Admin = key("example.Admin");
const req = (method, path, admin = false) => {
  const extensions = new Extensions();
  if (admin) extensions.insert(Admin, true);
  return { method, path, extensions };
};

export async function main() {
  const isProbe = or(
    (r) => r.path === "/healthz",
    (r) => r.path === "/readyz",
  );
  const isAdminWrite = and(
    hasExtension(Admin),
    not((r) => r.method === "GET"),
  );
  const app = stack(
    route(
      [isProbe, service(() => "probe: ok")],
      [isAdminWrite, service((r) => `admin ${r.method} ${r.path}`)],
    ),
  ).into(service((r) => `app ${r.method} ${r.path}`));
  const gate = either(
    hasExtension(Admin),
    service(() => "welcome back"),
    service(() => "please log in"),
  );
  return [
    await app.serve(req("GET", "/readyz")),
    await app.serve(req("POST", "/users", true)),
    await app.serve(req("POST", "/users")),
    await gate.serve(req("GET", "/", true)),
    await gate.serve(req("GET", "/")),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
