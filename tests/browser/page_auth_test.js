// page_auth_test.js — the web page against a server started with
// --api-key-file, in Debian's headless Chromium (playwright-core):
//
//   BASE_URL=http://127.0.0.1:PORT KEY=... IMAGE=photo.jpg EXPECT=cat,dog OUT_DIR=dir node tests/browser/page_auth_test.js
//
// Checks: the page itself loads without a key and asks for one (key field
// shown, /v1/models answered 401); a wrong key is refused with a message;
// the right key loads the model and an upload shows the EXPECT labels (the
// oracle's, computed by the caller with `detectd detect`); every API call
// after that carries "Authorization: Bearer KEY"; the key is in the tab's
// sessionStorage and never in the URL; no console errors.
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL;
const KEY = process.env.KEY;
const IMAGE = process.env.IMAGE;
const EXPECT = (process.env.EXPECT || "").split(",").filter(Boolean).sort();
const OUT = process.env.OUT_DIR || "screenshots";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

let failures = 0;
function check(cond, msg) {
  console.log(`${cond ? "ok  " : "FAIL"} ${msg}`);
  if (!cond) failures++;
}

async function setKey(page, k) {
  await page.fill("#key", k);
  await page.dispatchEvent("#key", "change");
}

(async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const consoleErrors = [];
    page.on("console", (m) => { if (m.type() === "error" && !/401/.test(m.text())) consoleErrors.push(m.text()); });
    const api = []; // every API response: path, status
    page.on("response", (resp) => {
      const u = new URL(resp.url());
      if (u.pathname !== "/" && u.pathname !== "/favicon.ico") api.push({ path: u.pathname, status: resp.status() });
    });
    let keyed = false; // the right key was entered: every API request from then on must carry it
    const keyedCalls = [];
    page.on("request", (req) => {
      const u = new URL(req.url());
      if (keyed && u.pathname.startsWith("/v1/")) keyedCalls.push({ path: u.pathname, auth: req.headers()["authorization"] });
    });

    const first = await page.goto(BASE + "/");
    check(first.status() === 200, "the page itself loads without a key");
    await page.waitForSelector("#keybox:not([hidden])", { timeout: 20000 });
    check(await page.isVisible("#key"), "the key field is shown after the 401");
    check((await page.textContent("#model")).includes("needs an API key"), "the header says a key is needed");
    check(await page.isVisible("#error"), "an error message asks for the key");
    check(api.some((a) => a.path === "/v1/models" && a.status === 401), "/v1/models was answered 401");
    await page.screenshot({ path: path.join(OUT, "page-auth-ask.png") });

    await setKey(page, KEY + "-wrong");
    await page.waitForFunction(() => document.getElementById("error").textContent.includes("refused"), null, { timeout: 20000 });
    check(true, "a wrong key is refused with a message");

    keyed = true;
    await setKey(page, KEY);
    await page.waitForFunction(() => document.getElementById("model").textContent === "model: tiny", null, { timeout: 20000 });
    check(await page.isHidden("#error"), "the right key loads the model; no error shown");

    await page.setInputFiles("#file", IMAGE);
    await page.waitForSelector("#result:not([hidden])", { timeout: 60000 });
    const labels = (await page.$$eval("#rows tr td:first-child", (tds) => tds.map((td) => td.textContent.trim()))).sort();
    check(JSON.stringify(labels) === JSON.stringify(EXPECT), `the table shows the oracle's labels ${EXPECT} (got ${labels})`);
    await page.screenshot({ path: path.join(OUT, "page-auth-result.png") });

    const det = api.filter((a) => a.path === "/v1/detect");
    check(det.length === 1 && det[0].status === 200, "the upload was answered 200");
    check(keyedCalls.length >= 2 && keyedCalls.every((a) => a.auth === `Bearer ${KEY}`),
      `every API call after the key carries it as a Bearer header (${keyedCalls.map((a) => a.path)})`);
    check(await page.evaluate(() => sessionStorage.getItem("detectd.apiKey")) === KEY, "the key is in sessionStorage");
    check(!page.url().includes(KEY), "the key is not in the URL");
    check(consoleErrors.length === 0, `no console errors (${consoleErrors.join("; ")})`);
  } catch (e) {
    check(false, "exception: " + e.message);
  } finally {
    await browser.close();
  }
  console.log(failures ? `${failures} failure(s)` : "summary: page_auth: key asked, wrong refused, right key detects");
  process.exit(failures ? 1 : 0);
})();
