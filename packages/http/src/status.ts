import { InvalidStatusError } from "./errors.js";

/**
 * Reason phrases of RFC 9110 section 15, the IANA registry and a few common ones (102, 103, 418, WebDAV), for
 * status lines when a response gives none. `Status.reasonPhrase(code)` reads it.
 */
export const STATUS_REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
});

/**
 * Status codes as constants, and helpers. The predicates take any number and answer by class (first digit).
 *
 * @example
 * ```ts
 * Status.NOT_FOUND; // 404
 * Status.reasonPhrase(404); // "Not Found"
 * Status.isClientError(404); // true
 * Status.isRedirect(307); // true
 * Status.allowsBody(304); // false
 * ```
 */
export const Status = Object.freeze({
  CONTINUE: 100,
  SWITCHING_PROTOCOLS: 101,
  PROCESSING: 102,
  EARLY_HINTS: 103,
  OK: 200,
  CREATED: 201,
  ACCEPTED: 202,
  NON_AUTHORITATIVE_INFORMATION: 203,
  NO_CONTENT: 204,
  RESET_CONTENT: 205,
  PARTIAL_CONTENT: 206,
  MULTI_STATUS: 207,
  ALREADY_REPORTED: 208,
  IM_USED: 226,
  MULTIPLE_CHOICES: 300,
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  NOT_MODIFIED: 304,
  USE_PROXY: 305,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  PROXY_AUTHENTICATION_REQUIRED: 407,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  GONE: 410,
  LENGTH_REQUIRED: 411,
  PRECONDITION_FAILED: 412,
  CONTENT_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  EXPECTATION_FAILED: 417,
  IM_A_TEAPOT: 418,
  MISDIRECTED_REQUEST: 421,
  UNPROCESSABLE_CONTENT: 422,
  LOCKED: 423,
  FAILED_DEPENDENCY: 424,
  TOO_EARLY: 425,
  UPGRADE_REQUIRED: 426,
  PRECONDITION_REQUIRED: 428,
  TOO_MANY_REQUESTS: 429,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
  UNAVAILABLE_FOR_LEGAL_REASONS: 451,
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  HTTP_VERSION_NOT_SUPPORTED: 505,
  VARIANT_ALSO_NEGOTIATES: 506,
  INSUFFICIENT_STORAGE: 507,
  LOOP_DETECTED: 508,
  NOT_EXTENDED: 510,
  NETWORK_AUTHENTICATION_REQUIRED: 511,

  /** The registered reason phrase of `code`, or undefined for an unregistered code. */
  reasonPhrase(code: number): string | undefined {
    return STATUS_REASONS[code];
  },
  /** True for an integer in 100-999: what fits a status line (three digits). */
  isValid(code: number): boolean {
    return Number.isInteger(code) && code >= 100 && code <= 999;
  },
  /** Throw {@link InvalidStatusError} unless {@link Status.isValid}. */
  assert(code: number): void {
    if (!(Number.isInteger(code) && code >= 100 && code <= 999)) throw new InvalidStatusError(code);
  },
  /** 1xx: an interim response. */
  isInformational(code: number): boolean {
    return code >= 100 && code < 200;
  },
  /** 2xx. */
  isSuccess(code: number): boolean {
    return code >= 200 && code < 300;
  },
  /** 3xx (the class; see {@link Status.isRedirect} for the codes a client follows). */
  isRedirection(code: number): boolean {
    return code >= 300 && code < 400;
  },
  /** 301, 302, 303, 307, 308: redirects with a `Location` that a client may follow. */
  isRedirect(code: number): boolean {
    return code === 301 || code === 302 || code === 303 || code === 307 || code === 308;
  },
  /** 4xx. */
  isClientError(code: number): boolean {
    return code >= 400 && code < 500;
  },
  /** 5xx. */
  isServerError(code: number): boolean {
    return code >= 500 && code < 600;
  },
  /** 4xx or 5xx. */
  isError(code: number): boolean {
    return code >= 400 && code < 600;
  },
  /** False for 1xx, 204 and 304, which never carry content (RFC 9110 6.4.1). */
  allowsBody(code: number): boolean {
    return code >= 200 && code !== 204 && code !== 304;
  },
} as const);

/** A status code: a number (the constants of {@link Status} for the registered ones). */
export type Status = number;
