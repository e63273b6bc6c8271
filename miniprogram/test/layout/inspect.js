/**
 * Lays out HTML pages in Chromium at phone width (run by pages.test.js in plain Node, since
 * Playwright does not load inside jest's jsdom): for each file, what sticks out past the right
 * edge and which buttons are too small to tap; saves a full-page picture beside each file.
 *
 *     node test/layout/inspect.js 750 1624 a.html b.html   → JSON on stdout
 */
const path = require('path')
const { chromium } = require('playwright-core')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/** In the browser. */
function inspect(width) {
  const describe = (el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent || '').trim().slice(0, 20)}"`
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true
    }
    return false
  }
  const overflowing = []
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect()
    if (!r.width && !r.height) continue
    if ((r.right > width + 1 || r.left < -1) && !clipped(el)) overflowing.push(`${describe(el)} [${Math.round(r.left)}, ${Math.round(r.right)}]`)
  }
  const small = [...document.querySelectorAll('wx-button')]
    .filter((b) => b.getBoundingClientRect().height && b.getBoundingClientRect().height < 60)
    .map((b) => `${describe(b)} ${Math.round(b.getBoundingClientRect().height)}px high`)
  return { scrollWidth: document.documentElement.scrollWidth, overflowing, small }
}

async function main() {
  const [width, height, ...files] = process.argv.slice(2)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  const results = {}
  try {
    const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } })
    for (const file of files) {
      await page.goto(`file://${path.resolve(file)}`)
      results[file] = await page.evaluate(inspect, Number(width))
      await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true })
    }
  } finally {
    await browser.close()
  }
  process.stdout.write(JSON.stringify(results))
}

main().catch((err) => { console.error(err); process.exit(1) })
