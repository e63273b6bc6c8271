/**
 * Every page state of test/layout/scenarios.js, laid out by Chromium at phone width: nothing may
 * stick out sideways on a 375-pt phone (750 px here, 1 rpx = 1 px), and buttons stay big enough
 * to tap. Each state is also saved as a picture to look at: test-artifacts/miniprogram/<name>.png.
 */
const { execFileSync } = require('child_process')
const fs = require('fs')
const path = require('path')
const { load, flush } = require('../helpers')
const { pageHtml, clearStyles } = require('./page-html')
const { scenarios } = require('./scenarios')

const OUT = path.resolve(__dirname, '../../../test-artifacts/miniprogram')
const PHONE = { width: 750, height: 1624 } // 375 × 812 pt at 2x

/** @type {Record<string, any>} what Chromium found, by scenario name */
const found = {}

/** Render one scenario with miniprogram-simulate into a standalone HTML file. */
async function render(scenario) {
  mp.reset()
  for (const [method, route, status, body] of scenario.routes || []) mp.route(method, route, status, body)
  if (scenario.before) scenario.before(mp)
  clearStyles()
  const page = load(scenario.route)
  if (page.instance.onLoad) page.instance.onLoad(scenario.options || {})
  if (page.instance.onShow) page.instance.onShow()
  await flush(10)
  if (scenario.act) await scenario.act(page)
  if (mp.unexpected.length) throw new Error(`${scenario.name}: requests not routed: ${mp.unexpected.join(', ')}`)
  const file = path.join(OUT, `${scenario.name}.html`)
  fs.writeFileSync(file, pageHtml(page, scenario.route))
  return file
}

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true })
  const files = {}
  for (const scenario of scenarios) files[scenario.name] = await render(scenario)
  const out = execFileSync(process.execPath, [path.join(__dirname, 'inspect.js'), String(PHONE.width), String(PHONE.height),
    ...Object.values(files)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const results = JSON.parse(out)
  for (const [name, file] of Object.entries(files)) found[name] = results[file]
}, 120000)

test.each(scenarios.map((s) => s.name))('%s fits a 375-pt phone', (name) => {
  expect(found[name].overflowing).toEqual([])
  expect(found[name].scrollWidth).toBeLessThanOrEqual(PHONE.width)
  expect(found[name].small).toEqual([])
})
