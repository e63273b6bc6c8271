const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

function routeCustomer(detail = [200, F.CUSTOMER_DETAIL], orders = (q) => [200, { items: [F.order(31, 'scheduled'), F.order(30, 'completed', { rating: 5 })], next_cursor: null }]) {
  mp.route('GET', '/api/v1/engineer/customers/21', ...detail)
  mp.route('GET', '/api/v1/engineer/service-orders', (req) => orders(req.query))
}

async function open(options = { id: '21' }) {
  const page = load('pages/work/customer/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

test('the customer with the full phone to call, where they live, my visits and their orders with me', async () => {
  routeCustomer()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.name')).toBe('陈阿姨')
  expect(text(page, '.profile .small')).toBe('翠竹苑 · 11月20日成为您的客户')
  expect(text(page, '.phone')).toBe('13800000001')
  expect(text(page, '.home-names')).toBe('翠竹苑')
  expect(mp.called('setNavigationBarTitle')).toEqual([expect.objectContaining({ title: '陈阿姨' })])
  await tap(page, '.call')
  expect(mp.called('makePhoneCall')).toEqual([expect.objectContaining({ phoneNumber: '13800000001' })])

  const visits = page.querySelectorAll('.visit').map((v) => v.dom.textContent.replace(/\s+/g, ' ').trim())
  expect(visits).toEqual(['12月1日 09:30翠竹苑工单号 WO-778评分 5 星：很专业', '11月20日 10:00翠竹苑'])
  expect(text(page, '.visits .card-title')).toBe('上门记录2 次')

  const query = Object.fromEntries(mp.requests.find((r) => r.path === '/api/v1/engineer/service-orders').query)
  expect(query).toEqual({ resident_id: '21', limit: '10' })
  const orders = page.querySelectorAll('.order')
  expect(orders).toHaveLength(2)
  expect(text(page, '.order >>> .type')).toBe('#31 维修')
  expect(text(page, '.order >>> .estate')).toBe('翠竹苑')
  expect(text(page, '.order >>> .status')).toBe('待完成')
})

test('a customer who left no phone has no call button', async () => {
  routeCustomer([200, { ...F.CUSTOMER_DETAIL, phone: null, display_name: '', visits: [] }])
  const page = await open()
  expect(text(page, '.phone')).toBe('住户未留手机号')
  expect(page.querySelector('.call')).toBeUndefined()
  expect(text(page, '.name')).toBe('未设置昵称')
  expect(text(page, '.no-visits')).toContain('还没有上门记录')
})

test('an order completed here shows as completed', async () => {
  routeCustomer()
  mp.route('POST', '/api/v1/engineer/service-orders/31/complete', 200, F.order(31, 'completed'))
  const page = await open()
  await tap(page, '.order >>> .complete')
  await flush()
  expect(page.data.orders.map((o) => o.status)).toEqual(['completed', 'completed'])
  expect(text(page, '.order >>> .status')).toBe('已完成')
})

test('more orders load at the bottom', async () => {
  routeCustomer(undefined, (q) => [200, q.get('cursor') ? { items: [F.order(29, 'cancelled')], next_cursor: null } : { items: [F.order(31)], next_cursor: 'n' }])
  const page = await open()
  page.instance.onReachBottom()
  await flush()
  expect(page.data.orders.map((o) => o.id)).toEqual([31, 29])
  expect(text(page, '.more')).toBe('没有更多了')
})

test('no orders, or orders that fail to load (with their own retry)', async () => {
  let calls = 0
  routeCustomer(undefined, () => (calls++ === 0 ? ['network'] : [200, { items: [], next_cursor: null }]))
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.orders-error >>> .message')).toBe('服务单加载失败')
  await tap(page, '.orders-error >>> .action')
  expect(text(page, '.no-orders >>> .message')).toBe('这位客户还没有找您下过服务单')
})

test('someone who is not my customer: said, without a pointless retry', async () => {
  routeCustomer([404, apiError('customer_not_found', '客户不存在')])
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('客户不存在')
  expect(page.querySelector('.load-error >>> .action')).toBeUndefined()
})

test('a network failure can be retried; no id is an error at once', async () => {
  let calls = 0
  mp.route('GET', '/api/v1/engineer/customers/21', () => (calls++ === 0 ? ['network'] : [200, F.CUSTOMER_DETAIL]))
  mp.route('GET', '/api/v1/engineer/service-orders', 200, { items: [], next_cursor: null })
  const page = await open()
  expect(text(page, '.load-error >>> .message')).toBe('加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  expect(text(page, '.name')).toBe('陈阿姨')
  const none = await open({})
  expect(text(none, '.load-error >>> .message')).toBe('没有找到这位客户')
})
