// mock_server.js — a stand-in for `detectd serve` to work on the page
// without a model: serves src/server/assets/index.html with the real
// server's headers and answers /v1/detect with a canned result.
//   node tests/browser/mock_server.js [port]
// Development aid only; tests/integration/test_page.sh uses the real server.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");

const page = fs.readFileSync(path.join(__dirname, "../../src/server/assets/index.html"));
// The real server's policy, from src/server/page.h.
const CSP = [...fs.readFileSync(path.join(__dirname, "../../src/server/page.h"), "utf8")
  .split("#define DT_PAGE_CSP")[1].split("#define")[0].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join("");

function json(res, status, obj) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(obj));
}

http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (req.method === "GET" && url.pathname === "/") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP,
      "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache" });
    return res.end(page);
  }
  if (url.pathname === "/v1/models")
    return json(res, 200, { models: [{ name: "mock", ready: true, threshold: 0.5 }] });
  if (req.method === "POST" && url.pathname === "/v1/detect") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const ct = req.headers["content-type"] || "";
      if (!ct.startsWith("image/"))
        return json(res, 415, { error: `unsupported media type ${ct}: send image/jpeg, image/png, image/webp or image/bmp` });
      json(res, 200, { model: "mock", width: 1836, height: 1426, objects: [
        { label: "dog", class_id: 16, score: 0.91, box: { x: 900, y: 40, width: 830, height: 1330 } },
        { label: "cat", class_id: 15, score: 0.84, box: { x: 25, y: 230, width: 900, height: 1120 } },
        { label: "teddy bear", class_id: 77, score: 0.22, box: { x: 300, y: 460, width: 500, height: 500 } },
      ], timing_ms: { queue: 0.1, decode: 12.3, preprocess: 2.1, inference: 41.7, postprocess: 0.4, total: 57 } });
    });
    return;
  }
  json(res, 404, { error: "no route " + url.pathname });
}).listen(Number(process.argv[2] || 8099), "127.0.0.1");
