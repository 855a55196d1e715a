// Opens lockstep's status page in headless chromium (Debian's, driven by playwright-core) and
// prints what it shows as JSON: the chains' heads, the flagged batches, whether the flow chart
// drew. Waits until a flagged batch appears (or fails after the timeout), then saves a
// screenshot. Usage: node status-page.mjs URL SCREENSHOT [CHROMIUM]
import { chromium } from "playwright-core";

const [url, screenshot, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--headless=new"] });
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  await page.goto(url, { waitUntil: "load" });
  const headsAt = async () =>
    page.$$eval("#chains tbody tr", rows => rows.map(r => [...r.children].map(td => td.textContent)));
  await page.waitForSelector("#chains tbody tr", { timeout: 30000 });
  const first = await headsAt();
  // the page refreshes itself: wait until a head moves, then until a flagged batch shows
  await page.waitForFunction(
    before => [...document.querySelectorAll("#chains tbody tr td.head")].some((td, i) => td.textContent !== before[i]),
    first.map(r => r[1]),
    { timeout: 60000 },
  );
  await page.waitForSelector("#flagged tbody tr", { timeout: 120000 });
  const flagged = await page.$$eval("#flagged tbody tr", rows => rows.map(r => [...r.children].map(td => td.textContent)));
  const chartDrawn = await page.$eval("#flow", c => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
    return ink;
  });
  const legend = await page.$eval("#legend", l => l.textContent);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ first, heads: await headsAt(), flagged, chartDrawn, legend }));
} finally {
  await browser.close();
}
