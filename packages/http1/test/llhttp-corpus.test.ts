import { afterAll, describe, expect, it } from "vitest";
import {
  InvalidContentLengthError,
  InvalidVersionError,
  MissingHostError,
  UnsupportedTransferCodingError,
  UnsupportedVersionError,
} from "../src/index.js";
import { type CorpusCase, type Expected, interpretLog, loadCorpus } from "./support/llhttp-corpus.js";
import {
  type Msg,
  parseRequests,
  parseResponses,
  type RunResult,
  SPLITS,
  type Split,
} from "./support/record.js";

// llhttp's own markdown corpus (nodejs/llhttp test/*.md), run against our parsers. Each case runs whole, byte by
// byte and at three random split points, and must give the same messages (start line, headers in order with
// original casing, body bytes, trailers, completeness) and the same outcome as llhttp's log: no error, an error
// (any of ours: llhttp's codes do not map one to one), an upgrade stop at the same offset, or a stop after a
// message that closes the connection.
//
// Request cases run with `requireHost: false` because llhttp does not check Host; every request case is also
// run with the default options, and where that changes the result it must be our MissingHostError (RFC 9112
// 3.2) and nothing else.

const CORPUS = new URL("../../../../shared/testdata/llhttp/", import.meta.url);
// url.md holds llhttp's URL-splitter cases (```url blocks, no http input): not loaded, since we keep the
// request-target as one raw string.
const cases = loadCorpus(CORPUS);

/** Types llhttp runs in strict mode. `*-lenient-*` types select relaxed parsing we do not offer. */
const STRICT_TYPES = new Set([
  "request",
  "response",
  "request-only",
  "response-only",
  "request-finish",
  "response-finish",
]);

/** Append CRLF to terminate a head that the case leaves open, and expect `code`. */
function rejectsOnceHeadEnds(code: string) {
  return (c: CorpusCase) => {
    // As given, the head never ends, so we have not looked at the field yet: no message, no error.
    expect(outcomeOf(c, "whole").outcome).toBe("ok");
    const r = parseRequests(Buffer.concat([c.input, Buffer.from("\r\n")]), {}, { requireHost: false });
    expect(r.outcome).toBe("error");
    expect(errorCode(r)).toBe(code);
    expect(r.messages).toEqual([]);
  };
}

function rejects(code: string) {
  return (c: CorpusCase) => {
    for (const { split } of SPLITS) {
      const r = outcomeOf(c, split);
      expect(r.outcome).toBe("error");
      expect(errorCode(r)).toBe(code);
      expect(r.messages).toEqual([]);
    }
  };
}

function accepts(method: string) {
  return (c: CorpusCase) => {
    for (const { split } of SPLITS) {
      const r = outcomeOf(c, split);
      expect(["ok", "closed"]).toContain(r.outcome);
      expect(r.messages.map((m) => [m.method, m.complete])).toEqual([[method, true]]);
    }
  };
}

/**
 * Where our strict policy deliberately differs from llhttp, with the reason. Each entry asserts what we do
 * instead; an entry whose case starts to match llhttp (or disappears) fails the run, so the list stays honest.
 */
const DELIBERATE: Record<string, { why: string; check: (c: CorpusCase) => void }> = {
  // --- versions and protocols other than HTTP/1.0 and HTTP/1.1 ---
  "request/sample.md > No HTTP version": {
    why: "HTTP/0.9 request lines (no version) are not supported: 400 ERR_HTTP1_INVALID_VERSION",
    check: rejects(InvalidVersionError.code),
  },
  "request/method.md > SOURCE request with ICE": {
    why: "ICE/1.0 (SHOUTcast) is not HTTP: 400 ERR_HTTP1_INVALID_VERSION",
    check: rejects(InvalidVersionError.code),
  },
  "request/method.md > OPTIONS request with RTSP": {
    why: "RTSP/1.0 is not HTTP: 400 ERR_HTTP1_INVALID_VERSION",
    check: rejects(InvalidVersionError.code),
  },
  "request/method.md > ANNOUNCE request with RTSP": {
    why: "RTSP/1.0 is not HTTP: 400 ERR_HTTP1_INVALID_VERSION",
    check: rejects(InvalidVersionError.code),
  },
  "response/sample.md > RTSP response": {
    why: "RTSP/1.1 status lines are not HTTP: ERR_HTTP1_INVALID_VERSION",
    check: rejects(InvalidVersionError.code),
  },
  "response/sample.md > ICE response": {
    why: "ICE/1.1 status lines are not HTTP: ERR_HTTP1_INVALID_VERSION",
    check: rejects(InvalidVersionError.code),
  },
  "response/sample.md > HTTP version 0.9": {
    why: "only HTTP/1.0 and HTTP/1.1 are spoken: ERR_HTTP1_UNSUPPORTED_VERSION",
    check: rejects(UnsupportedVersionError.code),
  },
  // --- methods: any token is a method (RFC 9110 9.1); llhttp only knows a fixed list ---
  "request/invalid.md > HTTP protocol and ANNOUNCE method": {
    why: "ANNOUNCE is a valid token; llhttp only allows it with RTSP. We accept it (routing decides)",
    check: accepts("ANNOUNCE"),
  },
  "request/invalid.md > Invalid method": {
    why: "MKCOLA is a valid token (extension method); llhttp only knows registered methods. We accept it",
    check: accepts("MKCOLA"),
  },
  // --- transfer codings ---
  "request/transfer-encoding.md > POST with `chunked` as last transfer-encoding": {
    why: "requests may only use `Transfer-Encoding: chunked`; other codings are not decoded: 501 (as Go does)",
    check: rejects(UnsupportedTransferCodingError.code),
  },
  "request/transfer-encoding.md > POST with `chunked` as last transfer-encoding (multiple headers)": {
    why: "same as above, the list split over two fields: 501",
    check: rejects(UnsupportedTransferCodingError.code),
  },
  // --- timing: framing fields are checked when the head is complete, the input ends before that ---
  "request/content-length.md > Error on `Content-Length` overflow": {
    why: "llhttp rejects while the value streams in; we check framing fields at the end of the head (bounded anyway)",
    check: rejectsOnceHeadEnds(InvalidContentLengthError.code),
  },
  "request/content-length.md > Error on duplicate `Content-Length`": {
    why: "as above; differing duplicate values are rejected when the head completes",
    check: rejectsOnceHeadEnds(InvalidContentLengthError.code),
  },
};

function errorCode(r: RunResult): string | undefined {
  return (r.error as { code?: string } | undefined)?.code;
}

function isRequestCase(c: CorpusCase): boolean {
  return c.meta.type!.startsWith("request");
}

function outcomeOf(c: CorpusCase, split: Split, requireHost = false): RunResult {
  const type = c.meta.type!;
  const options = {
    split,
    finish: type.endsWith("-finish"),
    // Pausing in on_message_complete is the one llhttp pause we model; the others only stop llhttp between
    // callbacks we do not have, without changing what is parsed, so those cases run unpaused.
    pauseOnComplete: c.meta.pause === "on_message_complete",
  };
  if (isRequestCase(c)) return parseRequests(c.input, options, { requireHost });
  // `skipBody` in a response case means "the request was HEAD": that is how we learn it too.
  return parseResponses(c.input, {
    ...options,
    requestMethods: c.meta.skipBody === true ? ["HEAD", "HEAD"] : [],
  });
}

type View = Omit<Msg, "head">;

function view(m: Msg): View {
  const { head: _head, ...rest } = m;
  return rest;
}

function expectedView(exp: Expected, isRequest: boolean): View[] {
  const views: View[] = exp.messages
    .filter((m) => m.headComplete)
    .map((m) => ({
      ...(isRequest ? { method: m.method, target: m.target } : { status: m.status, reason: m.reason }),
      versionMajor: m.versionMajor,
      versionMinor: m.versionMinor,
      headers: m.headers,
      body: m.body,
      trailers: m.trailers,
      complete: m.complete,
    }));
  // finish=1 is llhttp's "safe with callback": EOF completes a body that runs until close.
  if (exp.finish === 1 && views.length > 0) views[views.length - 1]!.complete = true;
  return views;
}

function compareWithLlhttp(c: CorpusCase, r: RunResult, exp: Expected): void {
  const isRequest = isRequestCase(c);
  const want = expectedView(exp, isRequest);
  const got = r.messages.map(view);
  const outcome = exp.finish === 2 ? "error" : exp.outcome;
  if (outcome === "error") {
    expect(r.outcome, `error expected: ${exp.errorReason ?? "unsafe finish"}`).toBe("error");
    // Messages completed before the error must agree; the broken one may be rejected earlier by us.
    expect(got.filter((m) => m.complete)).toEqual(want.filter((m) => m.complete));
    return;
  }
  expect(got).toEqual(want);
  if (outcome === "upgraded") {
    expect(r.outcome).toBe("upgraded");
    expect(r.consumed).toBe(exp.stopOffset);
    expect(r.leftover).toEqual(c.input.subarray(exp.stopOffset));
  } else if (outcome === "closed") {
    // "Data after Connection: close": we stop and leave those bytes unparsed.
    expect(r.outcome).toBe("closed");
    expect(r.leftover.length).toBeGreaterThan(0);
  } else {
    // A connection-closing message at the very end leaves nothing behind; llhttp says nothing either.
    expect(r.outcome === "ok" || (r.outcome === "closed" && r.leftover.length === 0)).toBe(true);
  }
}

const counts = {
  total: cases.length,
  run: 0,
  matched: 0,
  deliberate: 0,
  hostRequired: 0,
  lenientSkipped: 0,
  urlSkipped: 0,
  llhttpOnly: 0,
};
const seenDeliberate = new Set<string>();

describe("llhttp corpus", () => {
  it("is present and complete enough to mean something", () => {
    expect(cases.length).toBeGreaterThan(200);
    expect(cases.filter((c) => STRICT_TYPES.has(c.meta.type ?? "")).length).toBeGreaterThan(150);
  });

  for (const c of cases) {
    const type = c.meta.type ?? "";
    if (!STRICT_TYPES.has(type)) {
      // *-lenient-* types: relaxed modes (obs-fold unfolding, bare LF, data after close...) we do not offer.
      counts.lenientSkipped++;
      continue;
    }
    if (isRequestCase(c) && c.meta.skipBody === true) {
      // A request whose body the llhttp callback asks to skip: an llhttp-specific callback return value.
      counts.llhttpOnly++;
      continue;
    }
    counts.run++;
    const deliberate = DELIBERATE[c.id];
    it(`${c.id} [${type}]`, () => {
      if (deliberate !== undefined) {
        seenDeliberate.add(c.id);
        deliberate.check(c);
        // The entry must really differ from llhttp, or it does not belong in the list.
        let differs = false;
        try {
          compareWithLlhttp(c, outcomeOf(c, "whole"), interpretLog(c.log));
        } catch {
          differs = true;
        }
        expect(differs, `${c.id} matches llhttp now: drop it from DELIBERATE`).toBe(true);
        counts.deliberate++;
        return;
      }
      const exp = interpretLog(c.log);
      for (const { name, split } of SPLITS) {
        const r = outcomeOf(c, split);
        try {
          compareWithLlhttp(c, r, exp);
        } catch (err) {
          (err as Error).message = `[${name}] ${(err as Error).message}`;
          throw err;
        }
      }
      counts.matched++;
      if (isRequestCase(c)) {
        // Default options: the only allowed change is rejecting an HTTP/1.1 request without Host.
        const lax = outcomeOf(c, "whole");
        const strict = outcomeOf(c, "whole", true);
        const summary = (r: RunResult) => [r.outcome, r.messages.map(view), r.consumed];
        if (JSON.stringify(summary(strict)) !== JSON.stringify(summary(lax))) {
          expect(errorCode(strict)).toBe(MissingHostError.code);
          expect((strict.error as MissingHostError).status).toBe(400);
          const before = strict.messages.map(view);
          expect(before).toEqual(lax.messages.map(view).slice(0, before.length));
          const rejected = lax.messages[before.length];
          expect(rejected?.versionMinor).toBe(1);
          expect(rejected?.head.headers.has("host")).toBe(false);
          counts.hostRequired++;
        }
      }
    });
  }

  afterAll(() => {
    // Reported for the record (vitest prints it): how much of the corpus ran and how it fared.
    console.log(
      `llhttp corpus: ${counts.total} cases; ${counts.run} strict cases run, ${counts.matched} matched llhttp ` +
        `(of which ${counts.hostRequired} are rejected by default for a missing Host), ${counts.deliberate} ` +
        `deliberate differences; skipped ${counts.lenientSkipped} lenient and ` +
        `${counts.llhttpOnly} llhttp-callback-only`,
    );
  });

  it("lists only deliberate differences that exist in the corpus", () => {
    for (const id of Object.keys(DELIBERATE)) {
      expect(
        cases.some((c) => c.id === id),
        `${id} is not in the corpus`,
      ).toBe(true);
    }
  });
});
