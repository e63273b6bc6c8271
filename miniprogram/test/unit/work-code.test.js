const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

const T0 = Date.parse('2026-12-04T10:00:00+08:00')
let now = T0
let realBrightness

beforeEach(() => {
  wx.setStorageSync('linli.token', 't')
  now = T0
  jest.spyOn(Date, 'now').mockImplementation(() => now)
  realBrightness = wx.getScreenBrightness
  wx.getScreenBrightness = (args) => setTimeout(() => args.success({ value: 0.4, errMsg: 'getScreenBrightness:ok' }), 0)
})
afterEach(() => {
  jest.restoreAllMocks()
  wx.getScreenBrightness = realBrightness
})

/** Mint answers, in turn: each a [status, body] (the last one repeats). */
function routeMint(...answers) {
  let n = 0
  mp.route('POST', '/api/v1/engineer/binding-codes', () => answers[Math.min(n++, answers.length - 1)])
}

async function open(estates = [F.CUIZHU], options = {}) {
  mp.route('GET', '/api/v1/engineer/me', 200, F.engineerMe(estates))
  const page = load('pages/work/code/index')
  page.instance.onLoad(options)
  page.instance.onShow()
  await flush()
  return page
}

const mints = () => mp.requests.filter((r) => r.path === '/api/v1/engineer/binding-codes')

test('one estate: the code is minted at once, shown with its countdown, the screen kept on and bright', async () => {
  routeMint([201, F.bindingCode('SceneA')])
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(mints().map((r) => r.data)).toEqual([{ estate_id: 12 }])
  expect(mints()[0].header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(page.data.image).toBe('http://127.0.0.1:5000/api/v1/binding-codes/SceneA/image')
  expect(text(page, '.estate-name')).toBe('翠竹苑')
  expect(text(page, '.countdown')).toBe('2:00:00')
  expect(page.querySelector('.switch')).toBeUndefined() // one estate: nothing to switch
  expect(text(page, '.foot')).toBe('绑定码过期后自动刷新；本码可供 10 户住户扫码绑定')
  expect(mp.called('setKeepScreenOn')).toEqual([expect.objectContaining({ keepScreenOn: true })])
  expect(mp.called('setScreenBrightness')).toEqual([expect.objectContaining({ value: 1 })])
  // leaving gives the screen back
  page.instance.onUnload()
  expect(mp.called('setKeepScreenOn').pop().keepScreenOn).toBe(false)
  expect(mp.called('setScreenBrightness').pop().value).toBe(0.4)
})

test('the countdown ticks every second and an expired code is replaced by itself, once', async () => {
  const intervals = []
  const realSetInterval = global.setInterval
  jest.spyOn(global, 'setInterval').mockImplementation((fn, ms) => { intervals.push(ms); return realSetInterval(fn, 60000) })
  const cleared = jest.spyOn(global, 'clearInterval')
  routeMint([201, F.bindingCode('SceneA')], [201, F.bindingCode('SceneB', '2026-12-04T14:00:00+08:00')])
  const page = await open()
  expect(intervals).toEqual([1000])
  now = T0 + (2 * 3600 - 59) * 1000
  page.instance.tick()
  expect(text(page, '.countdown')).toBe('0:59')
  now = T0 + 2 * 3600 * 1000
  page.instance.tick()
  await flush()
  expect(mints()).toHaveLength(2)
  expect(page.data.code.scene).toBe('SceneB')
  expect(page.data.image).toContain('/SceneB/image')
  expect(page.data.expired).toBe(false)
  expect(text(page, '.countdown')).toBe('2:00:00')
  expect(intervals).toEqual([1000]) // still the one timer
  // hidden: the timer stops; shown again: it restarts
  page.instance.onHide()
  expect(cleared).toHaveBeenCalledTimes(1)
  expect(mp.called('setKeepScreenOn').pop().keepScreenOn).toBe(false)
  page.instance.onShow()
  expect(intervals).toEqual([1000, 1000])
  page.instance.onUnload()
  expect(cleared).toHaveBeenCalledTimes(2)
})

test('when the fresh code cannot be made, the expired one says so and it does not try again by itself', async () => {
  routeMint([201, F.bindingCode('SceneA')], [429, apiError('rate_limited', '操作太频繁，请稍后再试')])
  const page = await open()
  now = T0 + 2 * 3600 * 1000 + 1000
  page.instance.tick()
  await flush()
  expect(mints()).toHaveLength(2)
  expect(page.data.expired).toBe(true)
  expect(text(page, '.expired-mask')).toBe('已过期')
  expect(text(page, '.expired-text')).toBe('绑定码已过期，请刷新')
  expect(mp.called('showToast').pop().title).toBe('操作太频繁，请稍后再试')
  page.instance.tick()
  await flush()
  expect(mints()).toHaveLength(2)
  // the refresh button tries again
  routeMint([201, F.bindingCode('SceneC', '2026-12-04T14:00:00+08:00')])
  await tap(page, '.refresh')
  expect(mints()).toHaveLength(3)
  expect(page.data.expired).toBe(false)
  expect(page.data.code.scene).toBe('SceneC')
  // each tap is its own request: a new key
  expect(new Set(mints().map((r) => r.header['Idempotency-Key'])).size).toBe(3)
  page.instance.onUnload()
})

test('several estates: I pick one, it is remembered, and I may switch', async () => {
  mp.route('POST', '/api/v1/engineer/binding-codes', (req) => [201, F.bindingCode(`Scene${req.data.estate_id}`, undefined,
    req.data.estate_id === 13 ? F.BISHUI : F.CUIZHU)])
  const page = await open([F.CUIZHU, F.BISHUI])
  expect(page.data.state).toBe('choose')
  expect(mints()).toEqual([])
  expect(page.querySelectorAll('.estate').map((e) => e.dom.textContent.replace(/\s+/g, ''))).toEqual(['翠竹苑南山区›', '碧水湾南山区›'])
  page.querySelectorAll('.estate')[1].dispatchEvent('tap')
  await flush()
  expect(mints().map((r) => r.data)).toEqual([{ estate_id: 13 }])
  expect(text(page, '.estate-name')).toBe('碧水湾')
  expect(wx.getStorageSync('linli.work.estate')).toBe(13)
  await tap(page, '.switch')
  expect(page.data.state).toBe('choose')
  page.instance.onUnload()

  // next time the remembered estate's code comes at once
  const again = await open([F.CUIZHU, F.BISHUI])
  expect(again.data.state).toBe('ready')
  expect(mints().map((r) => r.data)).toEqual([{ estate_id: 13 }, { estate_id: 13 }])
  again.instance.onUnload()
  // ?estate_id= wins over the remembered one
  const asked = await open([F.CUIZHU, F.BISHUI], { estate_id: '12' })
  expect(text(asked, '.estate-name')).toBe('翠竹苑')
  asked.instance.onUnload()
})

test('a refused mint says why, with a retry', async () => {
  routeMint([403, apiError('estate_not_covered', '您未负责该小区，请联系管理员分配')], [201, F.bindingCode('SceneA')])
  const page = await open()
  expect(page.data.state).toBe('failed')
  expect(text(page, '.failed-title')).toBe('您未负责该小区，请联系管理员分配')
  await tap(page, '.retry')
  expect(page.data.state).toBe('ready')
  page.instance.onUnload()
})

test('without an estate, or without the profile', async () => {
  const none = await open([])
  expect(none.data.state).toBe('none')
  expect(text(none, '.no-estates >>> .message')).toBe('您还没有负责的小区')
  mp.route('GET', '/api/v1/engineer/me', 'network')
  const page = load('pages/work/code/index')
  page.instance.onLoad({})
  await flush()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('网络连接失败，请检查网络后重试')
})

test('an image that does not load can be loaded again', async () => {
  routeMint([201, F.bindingCode('SceneA')])
  const page = await open()
  page.instance.onImageError()
  await flush()
  expect(text(page, '.image-failed')).toBe('二维码加载失败，点此重试')
  await tap(page, '.image-failed')
  expect(page.data.imageFailed).toBe(false)
  expect(page.data.image).toMatch(/\/SceneA\/image\?retry=\d+$/)
  page.instance.onUnload()
})
