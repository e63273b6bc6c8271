/**
 * Loading pages and components for tests. Pages are built with the Component() constructor (so
 * miniprogram-simulate can load them); the real WXML compiler (`compiler: 'official'`) compiles
 * every template, so broken markup fails here as it would in DevTools.
 */
const path = require('path')
const simulate = require('miniprogram-simulate')

const SRC = path.resolve(__dirname, '../src')

/**
 * Load and attach a page or component by its path under src/ ("pages/bind/index").
 * Each load runs the module afresh (its own API module state).
 */
function load(relative, properties) {
  let id
  jest.isolateModules(() => {
    require(path.join(SRC, 'app.js'))
    id = simulate.load(path.join(SRC, relative), { rootPath: SRC, compiler: 'official' })
  })
  const comp = simulate.render(id, properties)
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

/** Let pending callbacks and promises run. */
async function flush(times = 5) {
  for (let i = 0; i < times; i += 1) await new Promise((resolve) => setTimeout(resolve, 0))
}

/** Wait until `check()` is true (contract tests talk to a real server). */
async function waitFor(check, { timeout = 8000, what = 'the condition' } = {}) {
  const started = Date.now()
  for (;;) {
    if (check()) return
    if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The text of the first element matching the selector (null when absent). */
function text(comp, selector) {
  const el = comp.querySelector(selector)
  return el ? el.dom.textContent.replace(/\s+/g, ' ').trim() : null
}

/** Tap the first element matching the selector. */
async function tap(comp, selector) {
  const el = comp.querySelector(selector)
  if (!el) throw new Error(`nothing matches ${selector}`)
  el.dispatchEvent('tap')
  await flush()
}

/** The error body the server answers with. */
function apiError(code, message, details = {}) {
  return { error: { code, message, details } }
}

module.exports = { SRC, load, flush, waitFor, text, tap, apiError }
