#!/usr/bin/env node
// A CloudEvents HTTP receiver for the tests, built on the cloudevents SDK (a peer nobody here
// wrote). Every POST is parsed with HTTP.toEvent() and each event is validate()d. Because the SDK
// fills in missing attributes (id, time, specversion), the raw request is checked too: the required
// attributes must be present in the ce- headers (binary mode) or in the JSON (structured, batch).
//
//   node server.js [--port N] [--tls-cert FILE --tls-key FILE]
//        prints {"port": N} on stdout once listening on 127.0.0.1 (HTTPS with --tls-cert)
//   POST /control {"reset": true} | {"fail": n, "status": 503, "retryAfter": "1"}
//        the next n event requests are answered with `status` (not recorded)
//   POST /control {"holdAfter": n}
//        after n more accepted event requests, every further one is held: read, parsed and
//        recorded in `held` (not in `events`), never answered (a crash test's requests in flight);
//        {"holdAfter": null} or reset ends holding (held requests stay unanswered)
//   GET /events   {"events": [...], "errors": [...], "requests": n, "failed": n, "held": [...],
//                  "eventRequests": [...]}  (eventRequests[i]: the number of the request, from 1 since
//                  the last reset, that carried events[i]: which events came in one batch)
//   POST <any other path>: an event request; 202 when accepted, 400 with the reason otherwise
//
// Binary-mode header values are percent-decoded here (HTTP binding v1.0.2 §3.1.3.2) since the SDK
// hands them over as they arrived. Each recorded event is
//   {mode, specversion, id, source, type, subject, time, sdkTime, datacontenttype, estimated, data}
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const { HTTP } = require("cloudevents");

let events = [];
let eventRequests = [];
let errors = [];
let requests = 0;
let failed = 0;
let failNext = 0;
let failStatus = 503;
let failRetryAfter = null;
let holdAfter = null;
let held = [];
const heldResponses = [];

const REQUIRED = ["specversion", "id", "source", "type", "time"];

function percentDecode(s) {
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.substr(i + 1, 2);
    if (s[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(s.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function modeOf(headers) {
  const ct = (headers["content-type"] || "").toLowerCase();
  if (ct.startsWith("application/cloudevents-batch+json")) return "batch";
  if (ct.startsWith("application/cloudevents+json")) return "structured";
  return "binary";
}

// The raw checks the SDK cannot do for us; throws on the first problem.
function rawCheck(mode, headers, body) {
  if (mode === "binary") {
    for (const a of REQUIRED) {
      if (!headers["ce-" + a]) throw new Error("raw: missing header ce-" + a);
    }
    if (headers["ce-datacontenttype"]) throw new Error("raw: ce-datacontenttype must not be sent");
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith("ce-")) continue;
      // Only printable ASCII, no space, no '"', and every '%' starts an escape.
      if (!/^[\x21\x23-\x7e]*$/.test(value)) throw new Error("raw: unencoded byte in " + name);
      if (/%(?![0-9A-Fa-f]{2})/.test(value)) throw new Error("raw: bad escape in " + name);
    }
    return;
  }
  const parsed = JSON.parse(body);
  const list = mode === "batch" ? parsed : [parsed];
  if (!Array.isArray(list)) throw new Error("raw: batch body is not a JSON array");
  for (const obj of list) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj))
      throw new Error("raw: event is not a JSON object");
    for (const a of REQUIRED) {
      if (typeof obj[a] !== "string" || obj[a] === "") throw new Error("raw: missing attribute " + a);
    }
    if (typeof obj.estimated !== "boolean") throw new Error("raw: estimated is not a boolean");
  }
}

function rawTimes(mode, headers, body) {
  if (mode === "binary") return [percentDecode(headers["ce-time"])];
  const parsed = JSON.parse(body);
  return (mode === "batch" ? parsed : [parsed]).map((o) => o.time);
}

function record(mode, event, rawTime, into) {
  const s = (v) => (mode === "binary" && typeof v === "string" ? percentDecode(v) : v);
  let estimated = event.estimated;
  if (typeof estimated === "string") estimated = estimated === "true";
  if (Date.parse(rawTime) !== Date.parse(event.time))
    throw new Error("time changed by the SDK: " + rawTime + " vs " + event.time);
  into.push({
    mode,
    specversion: event.specversion,
    id: s(event.id),
    source: s(event.source),
    type: s(event.type),
    subject: s(event.subject),
    time: rawTime,
    sdkTime: event.time,
    datacontenttype: event.datacontenttype,
    estimated,
    data: event.data,
  });
}

function reply(res, status, obj, extra) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { "Content-Type": "application/json", ...(extra || {}) });
  res.end(body);
}

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function handler(req, res) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      if (req.method === "GET" && req.url === "/events") {
        return reply(res, 200, { events, errors, requests, failed, held, eventRequests });
      }
      if (req.method === "POST" && req.url === "/control") {
        const c = JSON.parse(body || "{}");
        if (c.reset) {
          events = [];
          eventRequests = [];
          errors = [];
          requests = 0;
          failed = 0;
          failNext = 0;
          holdAfter = null;
          held = [];
        }
        if ("holdAfter" in c) holdAfter = c.holdAfter;
        if (typeof c.fail === "number") {
          failNext = c.fail;
          failStatus = c.status || 503;
          failRetryAfter = c.retryAfter || null;
        }
        return reply(res, 200, { ok: true });
      }
      if (req.method !== "POST") return reply(res, 405, { error: "method" });
      requests++;
      if (failNext > 0) {
        failNext--;
        failed++;
        return reply(res, failStatus, { error: "told to fail" },
                     failRetryAfter ? { "Retry-After": failRetryAfter } : {});
      }
      const mode = modeOf(req.headers);
      rawCheck(mode, req.headers, body);
      const times = rawTimes(mode, req.headers, body);
      const parsed = HTTP.toEvent({ headers: req.headers, body });
      const list = Array.isArray(parsed) ? parsed : [parsed];
      if (list.length !== times.length) throw new Error("SDK returned a different event count");
      list.forEach((e) => e.validate());
      if (holdAfter !== null && holdAfter <= 0) {
        list.forEach((e, i) => record(mode, e, times[i], held));
        heldResponses.push(res);  // never answered: the client's request stays in flight
        return undefined;
      }
      if (holdAfter !== null) holdAfter--;
      list.forEach((e, i) => record(mode, e, times[i], events));
      list.forEach(() => eventRequests.push(requests));
      return reply(res, 202, { accepted: list.length });
    } catch (err) {
      errors.push(String(err && err.message ? err.message : err));
      return reply(res, 400, { error: String(err) });
    }
  });
}

const port = Number(arg("--port") || 0);
const server = arg("--tls-cert")
  ? https.createServer({ cert: fs.readFileSync(arg("--tls-cert")), key: fs.readFileSync(arg("--tls-key")) },
                       handler)
  : http.createServer(handler);
server.keepAliveTimeout = 30000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
// Ends with its parent's pipe, so a crashed test never leaves it behind.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
