#!/usr/bin/env node
// Validates Kubernetes objects against the Kubernetes API schemas, offline.
//
//   node validate.mjs [--json] < objects.yaml
//
// Reads YAML (one or more documents, `---` separated; JSON is YAML too) on stdin. Each object is
// checked twice:
//   1. `new Kind(object).validate()` of the npm package kubernetes-models (the schemas of the
//      Kubernetes API; @kubernetes-models/prometheus-operator for monitoring.coreos.com): wrong
//      types, enum values, formats (quantities, ...), missing required fields;
//   2. unknown fields, which those schemas let through (they have no additionalProperties:
//      false): the same validator runs on a proxy that records each field it looks up; a field of
//      an object that the validator never looked up is not in the schema. An object whose fields
//      the validator looks up not at all is free-form (a map, or preserve-unknown-fields) and is
//      not checked.
// An apiVersion/kind without a schema here is an error.
//
// Prints one line per error, `<document index> <kind>/<name>: <error>`, and exits 1 when there
// is any (2 when stdin is not YAML). With --json, prints instead one JSON array with an entry per
// document: {index, apiVersion, kind, name, errors: [...]}.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// Model modules by apiVersion: the core API groups, then the Prometheus operator's CRDs.
const MODULE_ROOTS = ["kubernetes-models", "@kubernetes-models/prometheus-operator"];

async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9.\/-]+$/.test(apiVersion)) {
    return undefined;
  }
  for (const root of MODULE_ROOTS) {
    let mod;
    try {
      mod = await import(`${root}/${apiVersion}`);
    } catch (e) {
      if (e && (e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || e.code === "ERR_MODULE_NOT_FOUND")) continue;
      throw e;
    }
    const cls = mod[kind];
    if (typeof cls === "function" && cls.apiVersion === apiVersion && cls.kind === kind) return cls;
  }
  return undefined;
}

// A deep proxy of `value` that records, per object, which fields were looked up.
function recording(value, seen) {
  if (value === null || typeof value !== "object") return value;
  const lookedUp = new Set();
  seen.set(value, lookedUp);
  const children = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === "string") lookedUp.add(key);
      const v = Reflect.get(target, key, receiver);
      if (v === null || typeof v !== "object") return v;
      if (!children.has(key)) children.set(key, recording(v, seen));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === "string") lookedUp.add(key);
      return Reflect.has(target, key);
    },
  });
}

function unknownFields(cls, object) {
  const seen = new Map();
  try {
    cls.prototype.validate.call(recording(object, seen));
  } catch {
    // Schema errors are reported by the model's own validate().
  }
  const unknown = [];
  const walk = (value, path) => {
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}/${i}`));
      return;
    }
    const lookedUp = seen.get(value);
    if (!lookedUp || lookedUp.size === 0) return; // free-form, or never reached
    for (const key of Object.keys(value)) {
      if (!lookedUp.has(key)) unknown.push(`${path}/${key}`);
      else walk(value[key], `${path}/${key}`);
    }
  };
  walk(object, "");
  return unknown;
}

async function check(object) {
  const errors = [];
  if (object === null || typeof object !== "object" || Array.isArray(object)) {
    return ["not an object"];
  }
  const cls = await modelClass(object.apiVersion, object.kind);
  if (!cls) return [`no schema for apiVersion ${JSON.stringify(object.apiVersion)} kind ${JSON.stringify(object.kind)}`];
  try {
    new cls(object).validate();
  } catch (e) {
    errors.push(`schema: ${e.message}`);
  }
  // The validator reports every error (not only the first), so it looks up every known field
  // even of an invalid object.
  for (const path of unknownFields(cls, object)) errors.push(`unknown field: data${path}`);
  return errors;
}

async function main() {
  const json = process.argv.includes("--json");
  const text = readFileSync(0, "utf8");
  const documents = parseAllDocuments(text, { uniqueKeys: true });
  const results = [];
  let index = 0;
  for (const doc of Array.isArray(documents) ? documents : [documents]) {
    if (doc.errors.length) {
      process.stderr.write(`validate: document ${index}: ${doc.errors.map((e) => e.message).join("; ")}\n`);
      process.exit(2);
    }
    const object = doc.toJS({ maxAliasCount: -1 });
    if (object === null || object === undefined) continue; // an empty document (e.g. `---` alone)
    const errors = await check(object);
    results.push({
      index,
      apiVersion: object.apiVersion ?? null,
      kind: object.kind ?? null,
      name: object.metadata?.name ?? null,
      errors,
    });
    index++;
  }
  if (json) {
    process.stdout.write(JSON.stringify(results) + "\n");
  } else {
    for (const r of results) {
      for (const e of r.errors) process.stdout.write(`${r.index} ${r.kind}/${r.name}: ${e}\n`);
    }
    process.stdout.write(`validate: ${results.length} object(s), ${results.filter((r) => r.errors.length).length} invalid\n`);
  }
  process.exit(results.some((r) => r.errors.length) ? 1 : 0);
}

main().catch((e) => {
  process.stderr.write(`validate: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
