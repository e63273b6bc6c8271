/**
 * What the bind page does after the scan, measured against the live server (SQLite, the fake
 * WeChat) the contract tests use: for each of N scans of a freshly minted binding code by a new
 * resident, the WeChat and server calls the page makes before the steward's card shows, the time
 * from onLoad to the rendered card, and the server's own time for the call (its Server-Timing).
 *
 *     cd miniprogram && BENCH_N=200 npx jest --selectProjects bench
 *
 * Results: bench/README.md ("The bind page after the scan").
 */
const { load, waitFor } = require('../test/helpers')
const backend = require('../test/contract/backend')

const N = Number(process.env.BENCH_N || 200)

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const fmt = (v) => v.toFixed(1).padStart(7)
  return `p50 ${fmt(percentile(sorted, 50))}  p95 ${fmt(percentile(sorted, 95))}  p99 ${fmt(percentile(sorted, 99))}  max ${fmt(sorted.at(-1))} ms`
}

test(`the bind page, ${N} scans`, async () => {
  const { estate, token } = await backend.estateWithEngineer('基准师傅')
  let serverMs = null
  const request = wx.request
  wx.request = (args) => request({
    ...args,
    success: (res) => {
      const timing = /app;dur=([\d.]+)/.exec((res.header && res.header['server-timing']) || '')
      serverMs = timing ? Number(timing[1]) : null
      args.success(res)
    },
  })
  const client = []
  const server = []
  const shapes = new Set()
  for (let i = 0; i < N; i += 1) {
    const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, token)
    mp.reset()
    mp.openid = `o_bench_${backend.unique()}`
    const page = load('pages/bind/index')
    serverMs = null
    const started = process.hrtime.bigint()
    page.instance.onLoad({ scene: encodeURIComponent(code.scene) })
    await waitFor(() => page.data.state !== 'binding', { what: 'the binding' })
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6
    if (page.data.state !== 'bound') throw new Error(`scan ${i + 1}: ${JSON.stringify(page.data.error)}`)
    expect(page.querySelector('.steward-card')).toBeTruthy()
    client.push(elapsed)
    server.push(serverMs)
    shapes.add(`${mp.loginCount} wx.login, ${mp.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`)
  }
  wx.request = request
  expect([...shapes]).toEqual(['1 wx.login, POST /api/v1/bindings'])
  console.log([
    `bind page: ${N} scans, each a new resident and a freshly minted code (${new Date().toISOString()})`,
    `  after the scan: ${[...shapes][0]} (every scan)`,
    `  onLoad → steward card  ${summary(client)}   (fake wx.login + loopback HTTP + the call + rendering)`,
    `  server time of the call ${summary(server)}   (Server-Timing app;dur, SQLite)`,
  ].join('\n'))
}, 10 * 60 * 1000)
