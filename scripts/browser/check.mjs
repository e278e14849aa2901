// Loads the dashboard and the browsable API's forms in headless Chromium, as a user logged in
// with Basic credentials would: checks that the charts and the forms are in the rendered DOM,
// submits the task form, takes a screenshot of each page, and fails if any request the pages
// make goes anywhere but the service on 127.0.0.1.
//
//   node check.mjs BASE_URL USER PASSWORD OUT_DIR

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, username, password, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node check.mjs BASE_URL USER PASSWORD OUT_DIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const context = await browser.newContext({
  httpCredentials: { username, password },
  viewport: { width: 1280, height: 900 },
});
const outside = [];
await context.route("**/*", (route) => {
  const host = new URL(route.request().url()).hostname;
  if (host === "127.0.0.1") return route.continue();
  outside.push(route.request().url());
  return route.abort();
});
const page = await context.newPage();

async function visit(path, shot) {
  const answer = await page.goto(base + path, { waitUntil: "networkidle" });
  check(answer.status() === 200, `${path} answers 200 (got ${answer.status()})`);
  await page.screenshot({ path: `${out}/${shot}.png`, fullPage: true });
}

await visit("/github/dashboard/", "dashboard");
const charts = await page.$$eval("svg.chart", (svgs) =>
  svgs.map((svg) => ({
    label: svg.getAttribute("aria-label"),
    width: svg.getBoundingClientRect().width,
    marks: svg.querySelectorAll("polyline.series, circle.series, rect.bar").length,
  })),
);
for (const title of ["Developers", "Repositories", "GitHub requests per hour"]) {
  const chart = charts.find((c) => c.label === title);
  check(chart && chart.width > 300, `the "${title}" chart is drawn`);
  check(chart && chart.marks > 0, `the "${title}" chart has data on it`);
}
const gauges = await page.$$eval("svg.gauge rect.level", (levels) => levels.length);
check(gauges >= 1, `a quota gauge is drawn (${gauges})`);
check(
  (await page.$$("#failures, #jobs, #quotas")).length === 3,
  "the jobs, failures and quotas sections are there",
);

await visit("/github/developers/?format=api", "developers");
await page.click("details.filters summary");
const inputs = await page.$$eval("details.filters form [name]", (fields) => fields.map((f) => f.name));
check(inputs.includes("followers_count__gte"), `the filter form has the filters (${inputs.length} fields)`);
await page.fill("details.filters input[name=login__gte]", "user-9");
await Promise.all([page.waitForNavigation(), page.click("details.filters button[type=submit]")]);
check(page.url().includes("login__gte=user-9"), `the filter form submits (${page.url()})`);
const logins = await page.$$eval("main > table th", (ths) => ths.length);
check(logins > 0, "the filtered page shows the list");
await page.screenshot({ path: `${out}/developers-filtered.png`, fullPage: true });
const pageLinks = await page.$$eval("nav.pages a, nav.pages span", (links) => links.map((l) => l.textContent));
check(
  ["First", "Previous", "Next", "Last"].every((label) => pageLinks.includes(label)),
  `the page links are there (${pageLinks.join(", ")})`,
);

await visit("/github/tasks/?format=api", "tasks");
const kinds = await page.$$eval("form.task select[name=name] option", (options) => options.map((o) => o.value));
check(kinds.includes("full_profile_sync"), `the task form offers the kinds (${kinds.join(", ")})`);
await page.selectOption("form.task select[name=name]", "full_profile_sync");
await page.fill("form.task input[name=username]", "user-3");
await Promise.all([page.waitForNavigation(), page.click("form.task button[type=submit]")]);
const jobLink = await page.$$eval("main a[href*='/github/jobs/']", (links) => links.map((l) => l.href));
check(jobLink.length === 1, `the answer links the job (${jobLink})`);
await page.screenshot({ path: `${out}/task-posted.png`, fullPage: true });
if (jobLink.length === 1) {
  await visit(new URL(jobLink[0]).pathname + "?format=api", "job");
  check((await page.content()).includes("user-3"), "the job is the one posted");
}

check(outside.length === 0, `no request left 127.0.0.1 (${outside.join(", ") || "none"})`);
await browser.close();
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log(`screenshots in ${out}`);
