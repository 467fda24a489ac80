import { isTesseraError, TesseraError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import {
  applySettings,
  checkSetting,
  DEFAULT_SETTINGS,
  ErrorCode,
  errorCodeName,
  FrameType,
  frameTypeName,
  Http2CompressionError,
  Http2Error,
  Http2FlowControlError,
  Http2FrameSizeError,
  Http2HeaderListTooLargeError,
  Http2ProtocolError,
  isCoreFrameType,
  isValidSettingValue,
  SettingId,
  settingName,
} from "../src/index.js";

describe("constants", () => {
  it("RFC 9113 numbers", () => {
    expect(Object.values(FrameType)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Object.values(ErrorCode)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(Object.isFrozen(FrameType) && Object.isFrozen(ErrorCode) && Object.isFrozen(SettingId)).toBe(true);
  });
  it("names, known and unknown", () => {
    expect(frameTypeName(FrameType.WINDOW_UPDATE)).toBe("WINDOW_UPDATE");
    expect(frameTypeName(0xa)).toBe("ALTSVC");
    expect(frameTypeName(0xc)).toBe("ORIGIN");
    expect(frameTypeName(0x10)).toBe("PRIORITY_UPDATE");
    expect(frameTypeName(0xb)).toBe("UNKNOWN_0xb");
    expect(frameTypeName(0xfa)).toBe("UNKNOWN_0xfa");
    expect(errorCodeName(ErrorCode.HTTP_1_1_REQUIRED)).toBe("HTTP_1_1_REQUIRED");
    expect(errorCodeName(0xe)).toBe("UNKNOWN_0xe");
    expect(settingName(SettingId.NO_RFC7540_PRIORITIES)).toBe("NO_RFC7540_PRIORITIES");
    expect(settingName(0x0a0a)).toBe("UNKNOWN_0xa0a");
    expect(isCoreFrameType(9)).toBe(true);
    expect(isCoreFrameType(10)).toBe(false);
  });
});

describe("settings", () => {
  it("defaults of RFC 9113 6.5.2", () => {
    expect(DEFAULT_SETTINGS).toEqual({
      headerTableSize: 4096,
      enablePush: 1,
      maxConcurrentStreams: Number.POSITIVE_INFINITY,
      initialWindowSize: 65_535,
      maxFrameSize: 16_384,
      maxHeaderListSize: Number.POSITIVE_INFINITY,
      enableConnectProtocol: 0,
      noRfc7540Priorities: 0,
    });
  });
  it("ranges: the error and its RFC code", () => {
    expect(checkSetting(SettingId.ENABLE_PUSH, 1)).toBeNull();
    expect(checkSetting(SettingId.ENABLE_PUSH, 2)).toBeInstanceOf(Http2ProtocolError);
    expect(checkSetting(SettingId.INITIAL_WINDOW_SIZE, 2 ** 31 - 1)).toBeNull();
    expect(checkSetting(SettingId.INITIAL_WINDOW_SIZE, 2 ** 31)).toBeInstanceOf(Http2FlowControlError);
    expect(checkSetting(SettingId.MAX_FRAME_SIZE, 16_384)).toBeNull();
    expect(checkSetting(SettingId.MAX_FRAME_SIZE, 2 ** 24 - 1)).toBeNull();
    expect(checkSetting(SettingId.MAX_FRAME_SIZE, 16_383)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(checkSetting(SettingId.NO_RFC7540_PRIORITIES, 3)).toBeInstanceOf(Http2ProtocolError);
    expect(checkSetting(SettingId.HEADER_TABLE_SIZE, 2 ** 32 - 1)).toBeNull();
    expect(checkSetting(0xffff, 2 ** 32 - 1)).toBeNull();
    expect(isValidSettingValue(0xffff, 2 ** 32)).toBe(false);
    expect(isValidSettingValue(SettingId.MAX_CONCURRENT_STREAMS, 1.5)).toBe(false);
  });
  it("applySettings: in order, later wins, unknown ids ignored, the base untouched", () => {
    const next = applySettings(DEFAULT_SETTINGS, [4, 100, 0x0a0a, 7, 4, 200, 3, 10, 1, 0]);
    expect(next).toMatchObject({ initialWindowSize: 200, maxConcurrentStreams: 10, headerTableSize: 0 });
    expect(DEFAULT_SETTINGS.initialWindowSize).toBe(65_535);
  });
});

describe("errors", () => {
  it("carry a stable code, the RFC code and name, the scope and the stream", () => {
    const err = new Http2ProtocolError("bad", "stream", 7);
    expect(err).toBeInstanceOf(Http2Error);
    expect(err).toBeInstanceOf(TesseraError);
    expect(isTesseraError(err, "ERR_HTTP2_PROTOCOL")).toBe(true);
    expect(err).toMatchObject({
      code: "ERR_HTTP2_PROTOCOL",
      errorCode: 1,
      errorName: "PROTOCOL_ERROR",
      scope: "stream",
    });
    expect(err.streamId).toBe(7);
    expect(err.name).toBe("Http2ProtocolError");
    expect(err.message).toBe("bad (PROTOCOL_ERROR, stream error on stream 7)");
    expect(new Http2FrameSizeError("x").message).toBe("x (FRAME_SIZE_ERROR, connection error)");
  });
  it("instanceof follows the code, not the class identity (two package copies agree)", () => {
    const foreign = new TesseraError("ERR_HTTP2_COMPRESSION", "from another copy");
    expect(foreign).toBeInstanceOf(Http2CompressionError);
    expect(foreign).not.toBeInstanceOf(Http2HeaderListTooLargeError);
    expect(new Http2CompressionError("x")).not.toBeInstanceOf(Http2ProtocolError);
  });
});
