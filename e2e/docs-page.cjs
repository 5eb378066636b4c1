// Opens the Swagger UI at BASE_URL/docs in headless Chromium, lists the tags it renders, and runs
// "Try it out" on GET /health/live. Prints one JSON line: {"tags": [...], "status": "200"}.
// Run by crates/server/tests/api/docs_page.rs with NODE_PATH pointing at playwright-core, which
// `cargo xtask test` installs under target/e2e; the browser is Debian's /usr/bin/chromium.
const { chromium } = require("playwright-core");

async function main() {
  const base = process.argv[2];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // The machine's network is closed: Chromium's own background traffic is switched off.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    const failures = [];
    page.on("pageerror", (error) => failures.push(String(error)));
    await page.goto(`${base}/docs`, { waitUntil: "load" });
    await page.waitForSelector(".opblock-tag", { timeout: 30000 });
    const tags = await page.$$eval(".opblock-tag", (elements) =>
      elements.map((element) => element.getAttribute("data-tag")),
    );

    const operation = page
      .locator(".opblock")
      .filter({ has: page.locator('.opblock-summary-path[data-path="/health/live"]') })
      .first();
    await operation.locator(".opblock-summary").first().click();
    await operation.locator(".try-out__btn").click();
    await operation.locator(".execute").click();
    const status = operation.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout: 30000 });
    const code = (await status.innerText()).trim();
    console.log(JSON.stringify({ tags, status: code, failures }));
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
