// node examples/hijack.mjs: a proxy relays every CONNECT, except those for one host, which a mock answers.
import { pathToFileURL } from "node:url";
import { Extensions, service, stack } from "@tessera/core";
import { hijack } from "@tessera/layers/hijack";

export async function main() {
  const relay = service((req) => `relayed to ${req.host}`);
  const mock = service((req) => `mocked ${req.host}`);
  const proxy = stack(hijack((req) => req.host === "api.example.com", mock)).into(relay);
  const connect = (host) => proxy.serve({ host, extensions: new Extensions() });
  return [await connect("api.example.com"), await connect("example.org")];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
