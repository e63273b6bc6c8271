/** The 30-second binding against the real server: scan a freshly minted code, be bound, see the card. */
const { load, waitFor, text, tap } = require('../helpers')
const backend = require('./backend')

test('scan and bind: wx.login and one call to our server before the steward card shows', async () => {
  const { estate, engineer, token } = await backend.estateWithEngineer('李师傅')
  const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, token)
  mp.openid = `o_resident_${backend.unique()}`
  const page = load('pages/bind/index')
  const started = Date.now()
  page.instance.onLoad({ scene: encodeURIComponent(code.scene) })
  await waitFor(() => page.data.state !== 'binding', { what: 'the binding' })
  const elapsed = Date.now() - started
  expect(page.data.state).toBe('bound')
  expect(mp.loginCount).toBe(1)
  expect(mp.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v1/bindings'])
  expect(text(page, '.steward-card >>> .name')).toContain('李师傅')
  expect(text(page, '.steward-card >>> .estate')).toBe(estate.name)
  expect(text(page, '.steward-card >>> .rank')).toBe('本小区工程师排名第 1 位')
  // the engineer sees the new customer
  const customers = await backend.call('GET', '/api/v1/engineer/customers', undefined, token)
  expect(customers.items.map((c) => c.estate.id)).toEqual([estate.id])
  console.log(`bind page: scan to steward card in ${elapsed} ms (1 wx.login, 1 call); engineer ${engineer.id}`)

  // a second scan of the same code by the same resident changes nothing
  const again = load('pages/bind/index')
  again.instance.onLoad({ scene: encodeURIComponent(code.scene) })
  await waitFor(() => again.data.state !== 'binding')
  expect(text(again, '.result-title')).toBe('您已是他的客户')

  // rating after the card: the same call with the stars
  again.instance.onRate({ detail: { value: 5 } })
  await tap(again, '.submit-rating')
  await waitFor(() => again.data.rated, { what: 'the rating' })
})

test('a forged scene says what to do next', async () => {
  mp.openid = `o_resident_${backend.unique()}`
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: encodeURIComponent('x'.repeat(28)) })
  await waitFor(() => page.data.state !== 'binding')
  expect(text(page, '.problem-title')).toBe('二维码无效，请让工程师重新出示')
})
