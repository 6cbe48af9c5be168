// Driving the page in Chromium for the end-to-end test and the benchmark: the browser's
// flags, the stroke fixtures, real mouse and touch input, and what the page shows (read
// through its DOM contract: `data-testid` and `data-*` attributes).
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's root folder. */
export const repo = resolve(here, "..", "..");

/** Chromium flags for a closed network and a root user (see the machine notes). */
export const CHROME_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
];

/** Reads a stroke fixture (from tests/fixtures/<dir>): one stroke per line, `x,y` points in
 * pad units. */
export async function readStrokes(name, dir = "strokes") {
  const text = await readFile(join(repo, "tests", "fixtures", dir, `${name}.strokes`), "utf8");
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(/\s+/).map((p) => p.split(",").map(Number)));
}

/** The drawing pad's box on screen. */
export async function padBox(page) {
  return page.locator('[data-testid="pad"]').boundingBox();
}

/** Where a point in pad units lands on screen: the pad's height is 1 on both axes. A drawing
 * made for a square pad (x up to 1) is centred on the wide pad; one too wide for this pad
 * (a number on a phone) is scaled to fit. */
function placer(box, strokes) {
  const widest = Math.max(1, ...strokes.flat().map(([x]) => x));
  const scale = Math.min(1, box.width / box.height / widest);
  const offset = widest <= 1 ? (box.width - box.height) / 2 : 0;
  return ([x, y]) => [box.x + offset + x * scale * box.height, box.y + y * scale * box.height];
}

/** Draws strokes with the mouse (real input events, not JavaScript-made ones). */
export async function drawWithMouse(page, strokes) {
  const place = placer(await padBox(page), strokes);
  for (const stroke of strokes) {
    await page.mouse.move(...place(stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...place(p));
    await page.mouse.up();
  }
}

/** Draws strokes with a finger, through the DevTools protocol's touch events. */
export async function drawWithTouch(page, cdp, strokes) {
  const place = placer(await padBox(page), strokes);
  const at = (p) => {
    const [x, y] = place(p);
    return { x, y };
  };
  for (const stroke of strokes) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [at(stroke[0])] });
    for (const p of stroke.slice(1)) {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [at(p)] });
    }
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  }
}

/** The answer on show. */
export async function prediction(page) {
  const el = page.locator('[data-testid="prediction"]');
  return {
    digit: (await el.textContent()).trim(),
    strokes: await el.getAttribute("data-strokes"),
    verdict: await el.getAttribute("data-verdict"),
    source: await el.getAttribute("data-source"),
    confidence: Number(await el.getAttribute("data-confidence")),
  };
}

/** The number read, and its digit boxes. */
export async function numberRead(page) {
  const el = page.locator('[data-testid="number"]');
  const boxes = page.locator('[data-testid="digit-box"]');
  const digits = [];
  for (let i = 0; i < (await boxes.count()); i++) digits.push(await boxes.nth(i).getAttribute("data-digit"));
  return {
    text: (await el.textContent()).trim(),
    strokes: await el.getAttribute("data-strokes"),
    digits: Number(await el.getAttribute("data-digits")),
    boxes: digits.join(""),
  };
}

/** A number made of the single-digit fixtures, side by side, each 0.5 of the pad high. */
export async function composeNumber(text) {
  const strokes = [];
  let x = 0.15;
  for (const c of text) {
    const digit = await readStrokes(`digit-${c}`);
    const pts = digit.flat();
    const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
    const [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
    const s = 0.5 / (y1 - y0);
    for (const stroke of digit) strokes.push(stroke.map(([px, py]) => [x + (px - x0) * s, 0.25 + (py - y0) * s]));
    x += (x1 - x0) * s + 0.08;
  }
  return strokes;
}

/** Waits for the answer to the finished drawing of `n` strokes: a reading taken while the
 * last stroke was still being drawn has as many strokes but is not `data-complete`. */
export async function waitForStrokes(page, n) {
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector('[data-testid="prediction"]');
      return el?.dataset.strokes === String(n) && el.dataset.complete === "true";
    },
    n,
    { timeout: 5000 },
  );
}

/** Waits until the model is loaded and the page says it is ready. */
export async function waitReady(page) {
  await page.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: 30000 });
}

/** Waits until the answer is empty; false when that does not happen within 5 s. */
export async function answerCleared(page) {
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]').textContent === "", null, {
      timeout: 5000,
    });
    return true;
  } catch (e) {
    if (e.name === "TimeoutError") return false;
    throw e;
  }
}

/** Presses Clear when there is something to clear (the button is disabled on an empty pad). */
export async function clearPad(page) {
  const button = page.locator('[data-testid="clear"]');
  if (await button.isEnabled()) await button.click();
  if (!(await answerCleared(page))) throw new Error("the pad did not clear");
}

/** Clears the pad, draws a fixture with the mouse and waits for its answer. */
export async function drawFixture(page, name, dir = "strokes") {
  await clearPad(page);
  const strokes = await readStrokes(name, dir);
  await drawWithMouse(page, strokes);
  await waitForStrokes(page, strokes.length);
  return strokes;
}
