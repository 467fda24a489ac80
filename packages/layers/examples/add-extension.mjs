// node examples/add-extension.mjs: stamp every request with a tenant taken from its host.
import { pathToFileURL } from "node:url";
import { Extensions, key, service, stack } from "@tessera/core";
import { addExtension } from "@tessera/layers/add-extension";

const Tenant = key("example.Tenant");

export async function main() {
  const handler = service((req) => `hello ${req.extensions.get(Tenant)}`);
  const svc = stack(addExtension(Tenant, (req) => req.host.split(".")[0])).into(handler);
  return svc.serve({ host: "acme.example.com", extensions: new Extensions() });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
