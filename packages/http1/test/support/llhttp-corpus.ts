import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// Loader for llhttp's markdown test corpus (github.com/nodejs/llhttp test/, kept in shared/testdata/llhttp).
// Each case is a heading, `<!-- meta={...} -->`, an ```http block (the input) and a ```log block (the events
// llhttp reports). The input escapes are decoded exactly as llhttp's own test runner (test/md-test.ts) does.

export interface CorpusCase {
  /** `request/sample.md` etc. */
  file: string;
  /** 1-based line of the meta comment. */
  line: number;
  /** The heading above the case. */
  name: string;
  /** `file > name`, made unique with `#2`, `#3` when a file repeats a heading. */
  id: string;
  meta: { type?: string; pause?: string; skipBody?: boolean; [k: string]: unknown };
  input: Buffer;
  log: string[];
}

function mdFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...mdFiles(path));
    else if (entry.endsWith(".md")) out.push(path);
  }
  return out;
}

/** The input bytes of an ```http block, decoded like llhttp's md-test.ts. */
export function decodeHttpBlock(block: string): Buffer {
  let input = block;
  input = input.replace(/\\(\r\n|\r|\n)/g, ""); // a line ending in "\" continues without a newline
  input = input.replace(/\r\n|\r|\n/g, "\r\n"); // literal newlines are CRLF
  input = input.replace(/\\r/g, "\r");
  input = input.replace(/\\n/g, "\n");
  input = input.replace(/\\t/g, "\t");
  input = input.replace(/\\f/g, "\f");
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_all, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  input = input.replace(/\\([0-7]{1,3})/g, (_all, digits: string) =>
    String.fromCharCode(Number.parseInt(digits, 8)),
  );
  // llhttp's fixture writes the string as UTF-8 (so "\xff" arrives as C3 BF; see "255 ASCII in header value").
  return Buffer.from(input, "utf8");
}

/** Every case of every .md file under the corpus directory `dirUrl`. Throws if the corpus is missing. */
export function loadCorpus(dirUrl: URL): CorpusCase[] {
  const dir = fileURLToPath(dirUrl);
  if (!existsSync(dir)) throw new Error(`llhttp corpus not found at ${dir}`);
  const cases: CorpusCase[] = [];
  for (const path of mdFiles(dir)) {
    const file = relative(dir, path).split("\\").join("/");
    const lines = readFileSync(path, "utf8").split("\n");
    const seen = new Map<string, number>();
    let heading = "";
    let pending: { meta: CorpusCase["meta"]; line: number; http?: string } | undefined;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const h = /^#{1,6}\s+(.*)$/.exec(line);
      if (h) {
        heading = h[1]!.trim();
        continue;
      }
      const m = /^<!--\s*meta=(\{.*\})\s*-->/.exec(line);
      if (m) {
        pending = { meta: JSON.parse(m[1]!), line: i + 1 };
        continue;
      }
      const fence = /^```(\w+)\s*$/.exec(line);
      if (!fence) continue;
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !/^```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
      i = j;
      if (pending === undefined) continue; // url.md blocks etc. have no http meta
      if (fence[1] === "http") pending.http = body.join("\n");
      else if (fence[1] === "log" && pending.http !== undefined) {
        const n = (seen.get(heading) ?? 0) + 1;
        seen.set(heading, n);
        cases.push({
          file,
          line: pending.line,
          name: heading,
          id: `${file} > ${heading}${n > 1 ? ` #${n}` : ""}`,
          meta: pending.meta,
          input: decodeHttpBlock(pending.http),
          // md-test.ts also turns \t and \f in the expected log into the characters.
          log: body.map((l) => l.replace(/\\t/g, "\t").replace(/\\f/g, "\f")).filter((l) => l.length > 0),
        });
        pending = undefined;
      }
    }
  }
  return cases;
}

/** A message as llhttp's log describes it; strings are latin1 views of the bytes, like the recorder's. */
export interface ExpectedMsg {
  method?: string;
  target?: string;
  status?: number;
  reason?: string;
  versionMajor: number;
  versionMinor: number;
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  complete: boolean;
  /** False if llhttp never reached `headers complete` for this message. */
  headComplete: boolean;
}

export interface Expected {
  messages: ExpectedMsg[];
  /** "ok", "error", "upgraded" (error 22: pause on CONNECT/Upgrade), "closed" (error 5: data after close). */
  outcome: "ok" | "error" | "upgraded" | "closed";
  errorCode?: number;
  errorReason?: string;
  /** Offset of the last event (where llhttp stopped for an upgrade). */
  stopOffset?: number;
  /** `finish=N` of the *-finish types: 0/1 clean, 2 error. */
  finish?: number;
}

const OWS_END = /[ \t]+$/;

/** Turns a log span value (UTF-8 text of the bytes, or `cr`/`lf`) into a latin1 string of the bytes. */
function spanValue(raw: string): string {
  if (raw === "cr") return "\r";
  if (raw === "lf") return "\n";
  if (!raw.startsWith('"') || !raw.endsWith('"')) throw new Error(`unexpected span value ${raw}`);
  return Buffer.from(raw.slice(1, -1), "utf8").toString("latin1");
}

/** Replays an llhttp log into messages and an outcome. */
export function interpretLog(log: string[]): Expected {
  const expected: Expected = { messages: [], outcome: "ok" };
  let msg: ExpectedMsg | undefined;
  let field = "";
  let value = "";
  let inField = false;
  let method = "";
  let url = "";
  let status = "";
  for (const line of log) {
    const fin = /^off=NULL finish=(\d+)$/.exec(line);
    if (fin) {
      expected.finish = Number(fin[1]);
      continue;
    }
    const m = /^off=(\d+) (.*)$/.exec(line);
    if (!m) throw new Error(`unparsed log line: ${line}`);
    const off = Number(m[1]);
    const ev = m[2]!;
    const span = /^len=\d+ span\[([a-z_]+)\]=(.*)$/.exec(ev);
    const head = /^headers complete (method=\d+|status=(\d+)) v=(\d+)\/(\d+) /.exec(ev);
    const error = /^error code=(\d+) reason="(.*)"$/.exec(ev);
    if (ev === "message begin") {
      msg = {
        versionMajor: 0,
        versionMinor: 0,
        headers: [],
        body: "",
        trailers: [],
        complete: false,
        headComplete: false,
      };
      method = url = status = "";
      expected.messages.push(msg);
    } else if (span) {
      const kind = span[1]!;
      const v = spanValue(span[2]!);
      if (msg === undefined) throw new Error("span before message begin");
      if (kind === "method") method += v;
      else if (kind === "url") url += v;
      else if (kind === "status") status += v;
      else if (kind === "header_field") {
        if (!inField) {
          field = "";
          value = "";
          inField = true;
        }
        field += v;
      } else if (kind === "header_value") value += v;
      else if (kind === "body") msg.body += v;
      // protocol, version, chunk_extension_*: not modelled as data (version comes with headers complete)
    } else if (ev === "header_field complete") {
      inField = false;
    } else if (ev === "header_value complete") {
      // llhttp keeps trailing whitespace in the value span; RFC 9112 5.1 says it is not part of the value.
      const pair: [string, string] = [field, value.replace(OWS_END, "")];
      if (msg!.headComplete) msg!.trailers.push(pair);
      else msg!.headers.push(pair);
      field = "";
      value = "";
    } else if (head) {
      msg!.headComplete = true;
      msg!.versionMajor = Number(head[3]);
      msg!.versionMinor = Number(head[4]);
      if (head[2] !== undefined) {
        msg!.status = Number(head[2]);
        msg!.reason = status;
      } else {
        msg!.method = method;
        msg!.target = url;
      }
    } else if (ev === "message complete") {
      msg!.complete = true;
    } else if (error) {
      const code = Number(error[1]);
      expected.errorCode = code;
      expected.errorReason = error[2]!;
      expected.stopOffset = off;
      expected.outcome = code === 22 ? "upgraded" : code === 5 ? "closed" : "error";
    } else if (
      /^(method|url|protocol|version|status|chunk_extension_name|chunk_extension_value) complete$/.test(ev) ||
      /^chunk (header len=\d+|complete)$/.test(ev) ||
      ev === "reset" ||
      ev === "pause" ||
      ev === "skip body"
    ) {
      // framing details we do not report as events
    } else {
      throw new Error(`unknown log event: ${line}`);
    }
  }
  return expected;
}
