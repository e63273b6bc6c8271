const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

/** The list answers by query: `pages(query) => [status, body]`. */
function routeCustomers(pages, estates = [F.CUIZHU, F.BISHUI]) {
  mp.route('GET', '/api/v1/engineer/me', 200, F.engineerMe(estates))
  mp.route('GET', '/api/v1/engineer/customers', (req) => pages(req.query))
}

async function open() {
  const page = load('pages/work/customers/index')
  page.instance.onLoad()
  await flush()
  return page
}

const listed = (page) => page.querySelectorAll('.item').map((i) => i.dom.querySelector('.main--name').textContent)
const customerQueries = () => mp.requests.filter((r) => r.path === '/api/v1/engineer/customers').map((r) => Object.fromEntries(r.query))

test('each customer with their phone as the list shows it, estate, and my last visit; a tap opens them', async () => {
  routeCustomers(() => [200, { items: [
    F.customer(21, '陈阿姨'),
    F.customer(22, '', { phone: null, last_visit_at: null, start_reason: 'reassigned', estate: F.BISHUI }),
  ], next_cursor: null }])
  const page = await open()
  expect(page.data.state).toBe('ready')
  const items = page.querySelectorAll('.item')
  const cell = (i, sel) => items[i].dom.querySelector(sel.replace('.', '.main--')).textContent.trim()
  expect([cell(0, '.name'), cell(0, '.phone'), cell(0, '.estate'), cell(0, '.last-visit')])
    .toEqual(['陈阿姨', '138****0001', '翠竹苑 · 11月20日成为客户', '最近上门 12月1日 09:30'])
  expect([cell(1, '.name'), cell(1, '.phone'), cell(1, '.estate'), cell(1, '.last-visit')])
    .toEqual(['未设置昵称', '未留手机号', '碧水湾 · 11月20日成为客户', '尚无上门记录'])
  expect(customerQueries()).toEqual([{ limit: '20' }])
  items[0].dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/work/customer/index?id=21' })])
})

test('search narrows the list by name or phone digits; clearing shows everyone again', async () => {
  routeCustomers((q) => {
    if (q.get('q') === '陈') return [200, { items: [F.customer(21, '陈阿姨')], next_cursor: null }]
    if (q.get('q') === '9999') return [200, { items: [], next_cursor: null }]
    return [200, { items: [F.customer(21, '陈阿姨'), F.customer(22, '张先生')], next_cursor: null }]
  })
  const page = await open()
  expect(listed(page)).toEqual(['陈阿姨', '张先生'])
  page.instance.onQuery({ detail: { value: ' 陈 ' } })
  page.instance.onSearch()
  await flush()
  expect(listed(page)).toEqual(['陈阿姨'])
  page.instance.onQuery({ detail: { value: '9999' } })
  await tap(page, '.search-button')
  expect(page.data.state).toBe('empty')
  expect(text(page, '.no-match >>> .message')).toBe('没有找到匹配的客户')
  await tap(page, '.clear')
  expect(listed(page)).toEqual(['陈阿姨', '张先生'])
  expect(customerQueries().map((q) => q.q)).toEqual([undefined, '陈', '9999', undefined])
})

test('serving several estates, I filter by one', async () => {
  routeCustomers((q) => [200, { items: q.get('estate_id') === '13' ? [F.customer(22, '张先生', { estate: F.BISHUI })]
    : [F.customer(21, '陈阿姨'), F.customer(22, '张先生', { estate: F.BISHUI })], next_cursor: null }])
  const page = await open()
  expect(text(page, '.filter-value')).toBe('全部小区▾')
  page.querySelector('.estate-filter').dispatchEvent('change', { detail: { value: 2 } })
  await flush()
  expect(text(page, '.filter-value')).toBe('碧水湾▾')
  expect(listed(page)).toEqual(['张先生'])
  expect(customerQueries().pop()).toEqual({ limit: '20', estate_id: '13' })
})

test('one estate: no filter; without the profile the list still shows', async () => {
  routeCustomers(() => [200, { items: [F.customer(21, '陈阿姨')], next_cursor: null }], [F.CUIZHU])
  const page = await open()
  expect(page.querySelector('.estate-filter')).toBeUndefined()
  mp.route('GET', '/api/v1/engineer/me', 500, apiError('server_error', '服务器开小差了'))
  const other = await open()
  expect(listed(other)).toEqual(['陈阿姨'])
  expect(other.querySelector('.estate-filter')).toBeUndefined()
})

test('more customers load at the bottom with the cursor, and pull-down reloads', async () => {
  routeCustomers((q) => [200, q.get('cursor') === 'c2'
    ? { items: [F.customer(20, '李奶奶')], next_cursor: null }
    : { items: [F.customer(22, '张先生'), F.customer(21, '陈阿姨')], next_cursor: 'c2' }])
  const page = await open()
  expect(text(page, '.more')).toBe('上拉加载更多')
  page.instance.onReachBottom()
  await flush()
  expect(listed(page)).toEqual(['张先生', '陈阿姨', '李奶奶'])
  expect(text(page, '.more')).toBe('没有更多了')
  page.instance.onReachBottom()
  await flush()
  expect(customerQueries()).toHaveLength(2)
  await page.instance.onPullDownRefresh()
  expect(listed(page)).toEqual(['张先生', '陈阿姨'])
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('no customers yet: how to get some', async () => {
  routeCustomers(() => [200, { items: [], next_cursor: null }])
  const page = await open()
  expect(text(page, '.empty >>> .message')).toBe('还没有客户')
  expect(text(page, '.empty >>> .hint')).toBe('上门时出示绑定码，住户扫码后就是您的客户')
  await tap(page, '.empty >>> .action')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/work/code/index' })])
})

test('a failed load shows the error with a retry', async () => {
  let calls = 0
  routeCustomers(() => (calls++ === 0 ? [500, apiError('server_error', '服务器开小差了')] : [200, { items: [F.customer(21, '陈阿姨')], next_cursor: null }]))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('客户加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  expect(listed(page)).toEqual(['陈阿姨'])
})

describe('health', () => {
  const within = (page, i, cls) => {
    const el = page.querySelectorAll('.item')[i].dom.querySelector(`.main--${cls}`)
    return el ? el.textContent.trim() : null
  }

  test('each customer with their band and score, the trend, or 未评分 before the first score', async () => {
    routeCustomers(() => [200, { items: [
      F.customer(21, '陈阿姨', { health: F.health(30, { previous_score: 65, previous_band: 'yellow', trend: -35, reasons: F.REASONS }) }),
      F.customer(22, '张先生', { health: F.health(85, { previous_score: 80, trend: 5 }) }),
      F.customer(23, '李奶奶'),
    ], next_cursor: null }])
    const page = await open()
    expect([within(page, 0, 'health'), within(page, 0, 'trend')]).toEqual(['红色 30', '↓35'])
    expect(page.querySelectorAll('.item')[0].dom.querySelector('.main--health').className).toContain('red')
    expect(page.querySelectorAll('.item')[0].dom.querySelector('.main--trend').className).toContain('down')
    expect([within(page, 1, 'health'), within(page, 1, 'trend')]).toEqual(['绿色 85', '↑5'])
    expect([within(page, 2, 'health'), within(page, 2, 'trend')]).toEqual(['未评分', null])
  })

  test('filter by band and put the lowest scores first; a band with nobody says so', async () => {
    routeCustomers((q) => {
      if (q.get('health') === 'green') return [200, { items: [], next_cursor: null }]
      return [200, { items: [F.customer(21, '陈阿姨', { health: F.health(30) })], next_cursor: null }]
    })
    const page = await open()
    expect(page.querySelectorAll('.band').map((b) => b.dom.textContent)).toEqual(['全部', '红色', '黄色', '绿色'])
    expect(page.querySelector('.band-all').dom.className).toContain('chosen')
    await tap(page, '.band-red')
    expect(page.querySelector('.band-red').dom.className).toContain('chosen')
    await tap(page, '.sort')
    expect(text(page, '.sort')).toBe('✓ 低分在前')
    await tap(page, '.band-green')
    expect(text(page, '.no-match >>> .message')).toBe('没有找到匹配的客户')
    await tap(page, '.band-all')
    await tap(page, '.sort')
    expect(customerQueries()).toEqual([
      { limit: '20' },
      { limit: '20', health: 'red' },
      { limit: '20', health: 'red', sort: 'health' },
      { limit: '20', health: 'green', sort: 'health' },
      { limit: '20', sort: 'health' },
      { limit: '20' },
    ])
  })
})
