/**
 * Finding and joining an estate against the real server: a fresh resident finds it near them
 * (wx.getLocation → the nearby search) and by name, joins it, and the home page lists it.
 */
const { load, waitFor, text, tap } = require('../helpers')
const backend = require('./backend')

/** A point of our own (six decimals, like the estates' coordinates), so other tests' estates stay away. */
function somewhere() {
  const round = (x) => Math.round(x * 1e6) / 1e6
  return { latitude: round(22.5 + Math.random() * 0.4), longitude: round(113.8 + Math.random() * 0.4) }
}

test('a fresh resident finds an estate near them and by name, joins it, and the home page lists it', async () => {
  const here = somewhere()
  const name = `契约花园${backend.unique()}`
  // 0.0005° north: about 56 m away
  const estate = await backend.estateAt(Math.round((here.latitude + 0.0005) * 1e6) / 1e6, here.longitude, name)
  const elsewhere = await backend.estateAt(here.latitude + 1, here.longitude) // 111 km away: not nearby
  mp.openid = `o_resident_${backend.unique()}`
  mp.location = here

  const page = load('pages/estates/index')
  page.instance.onLoad({})
  await waitFor(() => page.data.state !== 'loading' && mp.loginCount === 1, { what: 'the nearby estates' })
  expect(page.data.state).toBe('ready')
  expect(mp.called('getLocation')[0].type).toBe('gcj02')
  const ids = page.data.items.map((e) => e.id)
  expect(ids).toContain(estate.id)
  expect(ids).not.toContain(elsewhere.id)
  expect(page.data.items.find((e) => e.id === estate.id)).toEqual(expect.objectContaining({
    name, distance: '56 米', joined: false, region: `深圳市南山区 · ${estate.address}` }))

  // by name (the typing is debounced)
  page.instance.onInput({ detail: { value: name } })
  await waitFor(() => page.data.mode === 'search' && page.data.state === 'ready', { what: 'the search' })
  expect(page.data.items.map((e) => e.id)).toEqual([estate.id])
  expect(page.querySelector('.distance')).toBeUndefined()

  await tap(page, '.join')
  await waitFor(() => mp.called('navigateBack').length === 1, { what: 'the join' })
  expect(getApp().globalData.estateId).toBe(estate.id)
  expect(text(page, '.joined')).toBe('已加入')
  const chosen = getApp().globalData.estateId

  // the estates page again: the estate near me is marked as joined
  const again = load('pages/estates/index')
  again.instance.onLoad({})
  await waitFor(() => again.data.state === 'ready' && again.data.items.some((e) => e.id === estate.id && e.joined),
    { what: 'the joined mark' })

  // the home page (a new load stands for the shared app: carry its current estate over)
  const home = load('pages/index/index')
  getApp().globalData.estateId = chosen
  home.instance.onShow()
  await waitFor(() => home.data.state !== 'loading', { what: 'the home page' })
  expect(home.data.state).toBe('ready')
  expect(home.querySelectorAll('.estate-name').map((el) => el.dom.textContent)).toEqual([name])
  expect(text(home, '.estate.current .estate-name')).toBe(name)
  expect(text(home, '.no-steward')).toContain('扫他出示的二维码')
  expect(home.querySelector('.work')).toBeUndefined()
  expect(mp.loginCount).toBe(1)
})

test('a resident who refuses location still finds the estate by name and joins it', async () => {
  const name = `契约名苑${backend.unique()}`
  await backend.estateAt(null, null, name)
  mp.openid = `o_resident_${backend.unique()}`
  mp.location = null

  const page = load('pages/estates/index')
  page.instance.onLoad({})
  await waitFor(() => page.data.state === 'nolocation', { what: 'the refusal' })
  expect(text(page, '.problem-title')).toBe('未获得位置权限')
  page.instance.onInput({ detail: { value: name } })
  page.instance.onConfirm()
  await waitFor(() => page.data.state === 'ready', { what: 'the search' })
  await tap(page, '.join')
  await waitFor(() => mp.called('navigateBack').length === 1, { what: 'the join' })

  const home = load('pages/index/index')
  home.instance.onShow()
  await waitFor(() => home.data.state !== 'loading', { what: 'the home page' })
  expect(text(home, '.estate.current .estate-name')).toBe(name)
  const token = await backend.wechatLogin(mp.openid)
  expect((await backend.call('GET', '/api/v1/me/estates', undefined, token)).items.map((r) => r.estate.name)).toEqual([name])
})
