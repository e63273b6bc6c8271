const { load, flush, text, tap, apiError } = require('../helpers')

const HERE = { latitude: 22.54, longitude: 113.95 }
const estate = (id, name, extra = {}) => ({ id, code: null, name, province: '广东省', city: '深圳市', district: '南山区',
  address: `科技园路${id}号`, lat: 22.541, lng: 113.95, households: 800, status: 'active', ...extra })
const NEAR = [estate(12, '翠竹苑', { distance_m: 111 }), estate(15, '海岸城花园', { distance_m: 1530 })]
const residency = (e) => ({ estate: { id: e.id, name: e.name, city: e.city, district: e.district }, source: 'self',
  joined_at: '2026-12-01T02:00:00+00:00' })

const names = (page) => page.querySelectorAll('.item-name').map((el) => el.dom.textContent)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function answer({ mine = [], nearby = NEAR, found = [] } = {}) {
  mp.route('GET', '/api/v1/me/estates', 200, { items: mine.map(residency) })
  mp.route('GET', '/api/v1/estates', (req) => [200, req.query.get('q')
    ? { items: found, next_cursor: null }
    : { items: nearby, next_cursor: null }])
}

async function open() {
  const page = load('pages/estates/index')
  page.instance.onLoad({})
  await flush()
  return page
}

beforeEach(() => {
  wx.setStorageSync('linli.token', 'tok')
})

test('opens with the estates near me, nearest first, with their distance', async () => {
  answer({ mine: [NEAR[1]] })
  mp.location = HERE
  const page = load('pages/estates/index')
  page.instance.onLoad({})
  expect(page.data.state).toBe('loading')
  await flush()
  expect(mp.called('getLocation')[0].type).toBe('gcj02')
  const query = mp.requests.find((r) => r.path === '/api/v1/estates').query
  expect(Object.fromEntries(query)).toEqual({ lat: '22.54', lng: '113.95', limit: '20' })
  expect(text(page, '.list-name')).toBe('附近的小区')
  expect(names(page)).toEqual(['翠竹苑', '海岸城花园'])
  expect(page.querySelectorAll('.distance').map((el) => el.dom.textContent)).toEqual(['111 米', '1.5 公里'])
  expect(text(page, '.item-region')).toBe('深圳市南山区 · 科技园路12号')
  // the one I live in is marked, the other can be joined
  expect(page.querySelectorAll('.join')).toHaveLength(1)
  expect(page.querySelectorAll('.joined')).toHaveLength(1)
  expect(page.data.items.map((e) => e.joined)).toEqual([false, true])
})

test('location refused: says so, offers the settings, and search still works', async () => {
  answer({ found: [estate(30, '翠湖山庄')] })
  const page = await open()
  expect(page.data.state).toBe('nolocation')
  expect(text(page, '.problem-title')).toBe('未获得位置权限')
  expect(text(page, '.no-location .muted')).toContain('输入小区名称搜索')
  expect(mp.requests.filter((r) => r.path === '/api/v1/estates')).toEqual([])
  page.instance.onInput({ detail: { value: '翠湖' } })
  page.instance.onConfirm()
  await flush()
  expect(names(page)).toEqual(['翠湖山庄'])
  expect(page.querySelector('.distance')).toBeUndefined()
})

test('after turning location on in the settings, the nearby estates come', async () => {
  answer()
  const page = await open()
  mp.location = HERE
  await tap(page, '.open-setting')
  await flush()
  expect(mp.called('openSetting')).toHaveLength(1)
  expect(names(page)).toEqual(['翠竹苑', '海岸城花园'])
})

test('phone location switched off: says where to turn it on, and offers to locate again', async () => {
  answer()
  const real = wx.getLocation
  wx.getLocation = (args) => setTimeout(() => args.fail({ errMsg: 'getLocation:fail:ERROR_NOCELL&WIFI_LOCATIONSWITCHOFF' }), 0)
  try {
    const page = await open()
    expect(text(page, '.problem-title')).toBe('手机定位未开启')
    expect(page.querySelector('.open-setting')).toBeUndefined()
    wx.getLocation = real
    mp.location = HERE
    await tap(page, '.retry-location')
    await flush()
    expect(names(page)).toEqual(['翠竹苑', '海岸城花园'])
  } finally {
    wx.getLocation = real
  }
})

test('typing searches by name once the typing pauses, and clearing goes back to nearby', async () => {
  answer({ found: [estate(30, '翠湖山庄'), estate(31, '翠湖花园')] })
  mp.location = HERE
  const page = await open()
  const searches = () => mp.requests.filter((r) => r.path === '/api/v1/estates' && r.query.get('q'))
  page.instance.onInput({ detail: { value: '翠' } })
  page.instance.onInput({ detail: { value: '翠湖 ' } })
  await flush()
  expect(searches()).toHaveLength(0)
  await sleep(350)
  await flush()
  expect(searches().map((r) => r.query.get('q'))).toEqual(['翠湖'])
  expect(text(page, '.list-name')).toBe('搜索结果')
  expect(names(page)).toEqual(['翠湖山庄', '翠湖花园'])
  await tap(page, '.clear')
  await flush()
  expect(page.data.q).toBe('')
  expect(text(page, '.list-name')).toBe('附近的小区')
  expect(names(page)).toEqual(['翠竹苑', '海岸城花园'])
  expect(mp.called('getLocation')).toHaveLength(1) // the place is remembered
})

test('a slow answer to an older query does not replace the newer one', async () => {
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  mp.route('GET', '/api/v1/estates', (req) => {
    const q = req.query.get('q')
    return [200, { items: q ? [estate(q === '翠' ? 40 : 41, `${q}结果`)] : [], next_cursor: null }]
  })
  const page = await open()
  // the first answer is held back until the second has landed
  const realRequest = wx.request
  let held = null
  wx.request = (args) => {
    if (!held && args.data && args.data.q === '翠') { held = () => realRequest(args); return { abort() {} } }
    return realRequest(args)
  }
  try {
    page.instance.onInput({ detail: { value: '翠' } })
    page.instance.onConfirm()
    await flush()
    page.instance.onInput({ detail: { value: '翠湖' } })
    page.instance.onConfirm()
    await flush()
    expect(names(page)).toEqual(['翠湖结果'])
    held()
    await flush()
    expect(names(page)).toEqual(['翠湖结果'])
  } finally {
    wx.request = realRequest
  }
})

test('nothing found by name: says so', async () => {
  answer({ found: [] })
  mp.location = HERE
  const page = await open()
  page.instance.onInput({ detail: { value: '不存在' } })
  page.instance.onConfirm()
  await flush()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.list-empty >>> .message')).toBe('没有找到“不存在”')
})

test('nothing nearby: says so and points to the search', async () => {
  answer({ nearby: [] })
  mp.location = HERE
  const page = await open()
  expect(text(page, '.list-empty >>> .message')).toBe('附近 5 公里内还没有开通的小区')
  expect(text(page, '.list-empty >>> .hint')).toContain('输入小区名称搜索')
})

test('the next page comes at the bottom, with the cursor', async () => {
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  mp.route('GET', '/api/v1/estates', (req) => (req.query.get('cursor') === 'c2'
    ? [200, { items: [estate(20, '第三个小区', { distance_m: 4200 })], next_cursor: null }]
    : [200, { items: NEAR, next_cursor: 'c2' }]))
  mp.location = HERE
  const page = await open()
  page.instance.onReachBottom()
  page.instance.onReachBottom() // a second scroll while loading asks nothing more
  await flush()
  const pages = mp.requests.filter((r) => r.path === '/api/v1/estates')
  expect(pages.map((r) => r.query.get('cursor'))).toEqual([null, 'c2'])
  expect(pages[1].query.get('lat')).toBe('22.54')
  expect(names(page)).toEqual(['翠竹苑', '海岸城花园', '第三个小区'])
  page.instance.onReachBottom() // the end: nothing more to ask
  await flush()
  expect(mp.requests.filter((r) => r.path === '/api/v1/estates')).toHaveLength(2)
})

test('a failed next page is told and the list kept', async () => {
  let calls = 0
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  mp.route('GET', '/api/v1/estates', () => (calls++ === 0 ? [200, { items: NEAR, next_cursor: 'c2' }] : ['network']))
  mp.location = HERE
  const page = await open()
  page.instance.onReachBottom()
  await flush()
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(names(page)).toEqual(['翠竹苑', '海岸城花园'])
  expect(page.data.loadingMore).toBe(false)
})

test('joining makes the estate current and goes back', async () => {
  answer()
  let joined = null
  mp.route('POST', '/api/v1/me/estates', (req) => { joined = req.data; return [201, residency(NEAR[0])] })
  mp.location = HERE
  const page = await open()
  await tap(page, '.join')
  expect(joined).toEqual({ estate_id: 12 })
  expect(getApp().globalData.estateId).toBe(12)
  expect(page.data.items[0].joined).toBe(true)
  expect(mp.called('showToast').pop().title).toBe('已加入翠竹苑')
  expect(mp.called('navigateBack')).toHaveLength(1)
})

test('a refused join is told and nothing changes', async () => {
  answer()
  mp.route('POST', '/api/v1/me/estates', 409, apiError('estate_inactive', '该小区已停用'))
  mp.location = HERE
  const page = await open()
  await tap(page, '.join')
  expect(mp.called('showToast').pop().title).toBe('该小区已停用')
  expect(getApp().globalData.estateId).toBe(null)
  expect(page.data.items[0].joined).toBe(false)
  expect(page.data.joiningId).toBe(0)
  expect(mp.called('navigateBack')).toHaveLength(0)
})

test('a failed list shows the error, and retry loads it', async () => {
  let calls = 0
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  mp.route('GET', '/api/v1/estates', () => (calls++ === 0
    ? [422, apiError('validation_error', '位置坐标无效，请重新定位', { fields: { lat: ['纬度应在 -90 到 90 之间'] } })]
    : [200, { items: NEAR, next_cursor: null }]))
  mp.location = HERE
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.list-error >>> .message')).toBe('位置坐标无效，请重新定位')
  await tap(page, '.list-error >>> .action')
  await flush()
  expect(names(page)).toEqual(['翠竹苑', '海岸城花园'])
})

test('pull-down refresh locates again and reloads what I live in', async () => {
  answer()
  mp.location = HERE
  const page = await open()
  answer({ mine: [NEAR[0]] })
  await page.instance.onPullDownRefresh()
  expect(mp.called('getLocation')).toHaveLength(2)
  expect(page.data.items.map((e) => e.joined)).toEqual([true, false])
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})
