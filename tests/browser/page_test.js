// page_test.js — drive the web page in Debian's headless Chromium with
// playwright-core, the way a user would, against a running server.
//
//   BASE_URL=http://127.0.0.1:PORT IMAGE=photo.jpg EXPECT=cat,dog OUT_DIR=dir node tests/browser/page_test.js
//
// Checks: the page's headers; it loads with no console error (so the CSP
// lets the page's own inline code run); an upload gives a table with the
// EXPECT labels and, on the canvas, boxes in the class colour exactly where
// the API answer says; the threshold slider hides a box without a new
// request; a non-image upload shows the server's own error message; the
// layout fits a 375 px phone.  Screenshots go to OUT_DIR.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL;
const IMAGE = process.env.IMAGE;
const EXPECT = (process.env.EXPECT || "").split(",").filter(Boolean);
const OUT = process.env.OUT_DIR || "screenshots";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Keep in sync with PALETTE in src/server/assets/index.html.
const PALETTE = [[255,56,56],[0,160,255],[72,220,20],[255,150,0],[190,60,255],[0,200,180],[255,50,190],
  [240,220,0],[90,100,255],[150,200,20],[160,90,40],[30,140,160],[130,40,220],[50,210,120],[255,130,180],
  [0,60,230],[255,180,40],[170,30,90],[0,230,255],[120,150,40]];

let failures = 0;
function check(cond, msg) {
  console.log(`${cond ? "ok  " : "FAIL"} ${msg}`);
  if (!cond) failures++;
}

// Which of a box's three edges (left, right, bottom; the top may sit under
// its label) show the class colour on the canvas, sampled at their middles
// with the page's own geometry (canvas pixels = API pixels * scale).
async function edgesInColour(page, obj, W, H) {
  return page.evaluate(({ obj, W, H, col }) => {
    const c = document.getElementById("canvas");
    const ctx = c.getContext("2d");
    const sx = c.width / W, sy = c.height / H;
    const x0 = Math.round(obj.box.x * sx), y0 = Math.round(obj.box.y * sy);
    const x1 = Math.max(x0 + 1, Math.round((obj.box.x + obj.box.width) * sx));
    const y1 = Math.max(y0 + 1, Math.round((obj.box.y + obj.box.height) * sy));
    const my = Math.round((y0 + y1) / 2), mx = Math.round((x0 + x1) / 2);
    const at = (x, y) => {
      const p = ctx.getImageData(Math.min(x, c.width - 1), Math.min(y, c.height - 1), 1, 1).data;
      return Math.abs(p[0] - col[0]) + Math.abs(p[1] - col[1]) + Math.abs(p[2] - col[2]) <= 6;
    };
    return [at(x0, my), at(x1 - 1, my), at(mx, y1 - 1)].filter(Boolean).length;
  }, { obj, W, H, col: PALETTE[obj.class_id % PALETTE.length] });
}

// The page's own /v1/detect answers, read on the way through (the
// inspector's response cache is not reliable for large uploads).
async function recordAnswers(page) {
  const answers = [];
  await page.route("**/v1/detect*", async (route) => {
    const resp = await route.fetch();
    const text = await resp.text();
    answers.push({ status: resp.status(), body: JSON.parse(text) });
    await route.fulfill({ response: resp, body: text });
  });
  return answers;
}

async function upload(page, answers, file) {
  const n = answers.length;
  await page.setInputFiles("#file", file);
  await page.waitForFunction(() => true); // let the request start
  for (let i = 0; i < 600 && answers.length === n; i++) await page.waitForTimeout(100);
  if (answers.length === n) throw new Error("no /v1/detect answer within 60 s");
  return answers[answers.length - 1];
}

async function rowLabels(page) {
  return page.$$eval("#rows tr", (trs) => trs.map((tr) => tr.cells[0].textContent.trim()));
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    // ---- desktop ---------------------------------------------------------------
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const problems = [];
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    page.on("pageerror", (e) => problems.push(String(e)));
    const answers = await recordAnswers(page);
    let detectPosts = 0;
    page.on("request", (r) => { if (r.url().includes("/v1/detect")) detectPosts++; });

    const nav = await page.goto(BASE + "/");
    const h = nav.headers();
    check(nav.status() === 200, `GET / answers 200 (${nav.status()})`);
    check(/^text\/html;\s*charset=utf-8$/i.test(h["content-type"] || ""), `Content-Type ${h["content-type"]}`);
    const csp = h["content-security-policy"] || "";
    check(/default-src 'self'/.test(csp) && /connect-src 'self'/.test(csp) && !/\*/.test(csp), `CSP allows only itself: ${csp}`);
    check(h["x-content-type-options"] === "nosniff", "X-Content-Type-Options nosniff");
    check(/no-cache|max-age/.test(h["cache-control"] || ""), `Cache-Control ${h["cache-control"]}`);
    check(await page.locator("#thr").getAttribute("type") === "range", "the slider is there");
    check(await page.locator("label[for=thr]").count() === 1 && await page.locator("label[for=file]").count() === 1,
      "the file input and the slider have labels");
    await page.waitForFunction(() => !/…|unavailable/.test(document.getElementById("model").textContent), null, { timeout: 30000 });

    const { status, body } = await upload(page, answers, IMAGE);
    check(status === 200, `POST /v1/detect answers 200 (${status})`);
    await page.waitForSelector("#rows tr", { timeout: 30000 });
    const thr = Number(await page.inputValue("#thr"));
    const shown = body.objects.filter((o) => o.score >= thr);
    const labels = await rowLabels(page);
    console.log(`     answer: ${body.objects.map((o) => `${o.label} ${o.score}`).join(", ")}; threshold ${thr}`);
    check(labels.length === shown.length, `table has a row per object at score >= ${thr} (${labels.length})`);
    for (const l of EXPECT) check(labels.includes(l), `table lists ${l}`);
    check((await page.textContent("#model")).includes(body.model), `model name ${body.model} shown`);
    const timing = await page.textContent("#timing");
    for (const k of ["decode", "preprocess", "inference", "postprocess"]) check(timing.includes(k), `timing shows ${k}`);
    for (const o of shown) {
      const n = await edgesInColour(page, o, body.width, body.height);
      check(n >= 2, `${o.label} ${o.score} box drawn in its colour where the API says (${n}/3 edges)`);
    }
    check(problems.length === 0, `no console errors or CSP violations ${problems.join(" | ")}`);
    await page.screenshot({ path: path.join(OUT, "page-desktop.png"), fullPage: true });

    // ---- the slider filters without re-posting ----------------------------------
    if (shown.length) {
      const weakest = shown.reduce((a, b) => (a.score <= b.score ? a : b));
      const postsBefore = detectPosts;
      const target = Math.min(1, Math.ceil((weakest.score + 0.005) * 100) / 100);
      await page.focus("#thr");
      await page.$eval("#thr", (el, v) => { el.value = String(v); el.dispatchEvent(new Event("input", { bubbles: true })); }, target);
      const left = body.objects.filter((o) => o.score >= target);
      await page.waitForFunction((n) => document.querySelectorAll("#rows tr").length === n, left.length);
      check((await rowLabels(page)).length === left.length, `slider at ${target}: ${left.length} rows left`);
      const sameColourNear = left.some((o) => o.class_id % PALETTE.length === weakest.class_id % PALETTE.length);
      if (!sameColourNear) {
        const n = await edgesInColour(page, weakest, body.width, body.height);
        check(n === 0, `${weakest.label} ${weakest.score} box is gone from the canvas (${n}/3 edges)`);
      }
      check(detectPosts === postsBefore, "moving the slider sent no request");
      check((await page.textContent("#thrv")) === target.toFixed(2), "the slider's value is shown");
      await page.keyboard.press("Home"); // keyboard works too: back to the minimum
      const min = Number(await page.getAttribute("#thr", "min"));
      const all = body.objects.filter((o) => o.score >= min).length;
      await page.waitForFunction((n) => document.querySelectorAll("#rows tr").length === n, all);
      check(true, `keyboard Home on the slider (${min}) shows all ${all} objects`);
    }

    // ---- a non-image upload shows the server's message ---------------------------
    const bad = await upload(page, answers, { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a photo\n") });
    check(bad.status >= 400 && typeof bad.body.error === "string", `non-image upload refused (${bad.status})`);
    await page.waitForSelector("#error:not([hidden])");
    const shownErr = await page.textContent("#error");
    check(shownErr.includes(bad.body.error), `the server's error is shown: "${shownErr}"`);
    await page.screenshot({ path: path.join(OUT, "page-error.png") });
    await ctx.close();

    // ---- phone ------------------------------------------------------------------
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p2 = await phone.newPage();
    const answers2 = await recordAnswers(p2);
    await p2.goto(BASE + "/");
    const r2 = await upload(p2, answers2, IMAGE);
    check(r2.status === 200, "phone: upload answered");
    await p2.waitForSelector("#rows tr", { timeout: 30000 });
    const overflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `phone: no horizontal scrolling (${overflow}px over)`);
    const cw = await p2.evaluate(() => document.getElementById("canvas").getBoundingClientRect().width);
    check(cw > 300 && cw <= 375, `phone: the photo fits the screen (${Math.round(cw)}px wide)`);
    const thr2 = Number(await p2.inputValue("#thr"));
    for (const o of r2.body.objects.filter((o) => o.score >= thr2)) {
      const n = await edgesInColour(p2, o, r2.body.width, r2.body.height);
      check(n >= 2, `phone: ${o.label} box drawn (${n}/3 edges)`);
    }
    await p2.screenshot({ path: path.join(OUT, "page-phone.png"), fullPage: true });
    await phone.close();
  } finally {
    await browser.close();
  }
  console.log(failures ? `${failures} check(s) failed` : "all checks passed");
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
