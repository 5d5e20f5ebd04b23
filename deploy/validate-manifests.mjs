// validate-manifests.mjs — validate Kubernetes objects offline against the
// Kubernetes OpenAPI schema as shipped by npm kubernetes-models (package.json).
//
// stdin: a JSON array of {"where": "file#n", "doc": {...}} (a whole object,
// its apiVersion/kind pick the schema) or {"where", "model": "v1/Container",
// "doc"} (one embedded API type, e.g. a KServe predictor's container).
// Two checks per object: the package's schema validator (types, required
// fields, enums, quantities, int-or-string), and unknown fields (what
// `kubectl apply --validate=strict` refuses), read from the package's type
// declarations since its validators allow extra properties.
// Prints one line per object; exit 1 when any is invalid, 2 on a setup error.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = process.env.ROOT || resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NM = join(ROOT, "node_modules");
const PKG = join(NM, "kubernetes-models");

if (!existsSync(join(PKG, "package.json"))) {
  console.log("kubernetes-models is not installed (npm install, see package.json)");
  process.exit(2);
}

// ---- the type declarations: interface name -> {prop: type string} ----------
const ifaceCache = new Map();

// The interface declared in a .d.ts file, with its imports resolved to files.
function readIface(dts) {
  if (ifaceCache.has(dts)) return ifaceCache.get(dts);
  let result = null;
  if (existsSync(dts)) {
    const text = readFileSync(dts, "utf8");
    const imports = new Map();
    for (const m of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
      const spec = m[2];
      const file = spec.startsWith(".")
        ? resolve(dirname(dts), spec.replace(/\.js$/, "") + ".d.ts")
        : join(NM, spec.replace(/\.js$/, "") + ".d.ts");
      for (const name of m[1].split(",").map((s) => s.trim())) imports.set(name, file);
    }
    const start = text.search(/^export interface \w+/m);
    if (start >= 0) {
      const body = text.slice(start, text.indexOf("\n}", start));
      const props = new Map();
      for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) props.set(m[1], m[2]);
      result = { props, imports };
    }
  }
  ifaceCache.set(dts, result);
  return result;
}

// What a property's declared type says about its value: an object checked
// against another interface, an array of those, or anything else (unchecked).
function typeOf(iface, type) {
  let m = /^Array<(\w+)>;$/.exec(type);
  if (m && iface.imports.has(m[1])) return { array: true, dts: iface.imports.get(m[1]) };
  m = /^(\w+);$/.exec(type);
  if (m && iface.imports.has(m[1])) return { array: false, dts: iface.imports.get(m[1]) };
  return null;
}

function unknownFields(dts, value, path, errors) {
  const iface = readIface(dts);
  if (!iface || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (!iface.props.has(key)) {
      errors.push(`${path}/${key}: unknown field`);
      continue;
    }
    const t = typeOf(iface, iface.props.get(key));
    if (!t) continue;
    if (t.array && Array.isArray(v)) v.forEach((e, i) => unknownFields(t.dts, e, `${path}/${key}/${i}`, errors));
    else if (!t.array) unknownFields(t.dts, v, `${path}/${key}`, errors);
  }
}

// ---- main ---------------------------------------------------------------------
const items = JSON.parse(readFileSync(0, "utf8"));
let bad = 0;
for (const item of items) {
  const doc = item.doc || {};
  const model = item.model || `${doc.apiVersion}/${doc.kind}`;
  const base = join(PKG, model);
  const errors = [];
  if (!existsSync(base + ".js")) {
    errors.push(`no Kubernetes API type ${model} (apiVersion/kind pair unknown)`);
  } else {
    const mod = await import(pathToFileURL(base + ".js").href);
    const Cls = mod[model.split("/").pop()];
    try {
      new Cls(doc).validate();
    } catch (e) {
      errors.push(String(e.message || e));
    }
    unknownFields(base + ".d.ts", doc, "", errors);
  }
  if (errors.length) {
    bad++;
    console.log(`INVALID ${item.where} (${model}): ${errors.join("; ")}`);
  } else {
    console.log(`valid   ${item.where} (${model})`);
  }
}
process.exit(bad ? 1 : 0);
