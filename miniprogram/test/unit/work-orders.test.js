const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

/** The list answers by query: `pages(query) => [status, body]`. */
function routeOrders(pages) {
  mp.route('GET', '/api/v1/engineer/me', 200, F.engineerMe())
  mp.route('GET', '/api/v1/engineer/service-orders', (req) => pages(req.query))
}

async function open(options = {}) {
  const page = load('pages/work/orders/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

const listQueries = () => mp.requests.filter((r) => r.path === '/api/v1/engineer/service-orders').map((r) => Object.fromEntries(r.query))
const ids = (page) => page.data.items.map((o) => o.id)

test('the orders to schedule first: the customer, the full phone to call, the address, the estate', async () => {
  routeOrders(() => [200, { items: [F.order(31, 'assigned', { preferred_slot: '周六上午', photos: ['/api/v1/uploads/a.jpg'] })], next_cursor: null }])
  const page = await open()
  expect(listQueries()).toEqual([{ limit: '20', status: 'assigned' }])
  expect(text(page, '.tab.active')).toBe('待预约')
  expect(text(page, '.order >>> .type')).toBe('#31 维修')
  expect(text(page, '.order >>> .status')).toBe('待预约')
  expect(text(page, '.order >>> .estate')).toBe('翠竹苑')
  expect(text(page, '.order >>> .name')).toBe('陈阿姨')
  expect(text(page, '.order >>> .contact')).toBe('联系人 陈女士')
  expect(text(page, '.order >>> .phone')).toBe('13912345678')
  expect(text(page, '.order >>> .address')).toBe('3栋1单元502')
  expect(text(page, '.order >>> .description')).toBe('空调不制冷')
  expect(text(page, '.order >>> .preferred')).toBe('期望 周六上午')
  expect(text(page, '.order >>> .requested')).toBe('下单 12月3日 10:00')
  expect(page.querySelector('.order').instance.data.v.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/a.jpg'])
  await tap(page, '.order >>> .call')
  expect(mp.called('makePhoneCall')).toEqual([expect.objectContaining({ phoneNumber: '13912345678' })])
  await tap(page, '.order >>> .photo')
  expect(mp.called('previewImage')[0]).toEqual(expect.objectContaining({ urls: ['http://127.0.0.1:5000/api/v1/uploads/a.jpg'] }))
  expect(text(page, '.order >>> .schedule')).toBe('预约上门')
})

test('scheduling: pick the day and time (Beijing), the order moves out of 待预约', async () => {
  routeOrders(() => [200, { items: [F.order(31)], next_cursor: null }])
  mp.route('POST', '/api/v1/engineer/service-orders/31/schedule', (req) => [200, F.order(31, 'scheduled', { scheduled_for: req.data.scheduled_for })])
  const page = await open()
  await tap(page, '.order >>> .schedule')
  const card = page.querySelector('.order')
  expect(card.instance.data.time).toBe('09:00')
  expect(card.instance.data.date > card.instance.data.firstDate).toBe(true) // tomorrow by default
  page.querySelector('.order >>> .date').dispatchEvent('change', { detail: { value: '2026-12-06' } })
  page.querySelector('.order >>> .time').dispatchEvent('change', { detail: { value: '14:30' } })
  await tap(page, '.order >>> .confirm-schedule')
  expect(mp.requests.find((r) => r.method === 'POST').data).toEqual({ scheduled_for: '2026-12-06T14:30:00+08:00' })
  expect(mp.called('showToast').pop().title).toBe('已约 12月6日 14:30')
  expect(ids(page)).toEqual([])
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('没有待预约的服务单')
})

test('under 全部 a scheduled order stays, moved to its new time; 改约 starts from the current time', async () => {
  routeOrders(() => [200, { items: [F.order(31, 'scheduled')], next_cursor: null }])
  mp.route('POST', '/api/v1/engineer/service-orders/31/schedule', (req) => [200, F.order(31, 'scheduled', { scheduled_for: req.data.scheduled_for })])
  const page = await open({ status: '' })
  expect(listQueries()).toEqual([{ limit: '20' }])
  expect(text(page, '.tab.active')).toBe('全部')
  expect(text(page, '.order >>> .scheduled')).toBe('预约上门 12月5日 09:30')
  expect(text(page, '.order >>> .schedule')).toBe('改约')
  await tap(page, '.order >>> .schedule')
  expect([page.querySelector('.order').instance.data.date, page.querySelector('.order').instance.data.time]).toEqual(['2026-12-05', '09:30'])
  await tap(page, '.order >>> .confirm-schedule')
  expect(ids(page)).toEqual([31])
  expect(text(page, '.order >>> .scheduled')).toBe('预约上门 12月5日 09:30')
  expect(page.querySelector('.order >>> .schedule-form')).toBeUndefined()
})

test('completing asks first; confirmed, the order leaves 待完成', async () => {
  routeOrders(() => [200, { items: [F.order(32, 'scheduled'), F.order(31, 'scheduled')], next_cursor: null }])
  mp.route('POST', /\/complete$/, (req) => [200, F.order(Number(req.path.split('/')[5]), 'completed')])
  const page = await open({ status: 'scheduled' })
  expect(text(page, '.tab.active')).toBe('待完成')
  mp.modalConfirm = false
  await tap(page, '.order >>> .complete')
  expect(mp.called('showModal')[0].content).toBe('确认服务单 #32 已完成？住户会收到通知并可评价。')
  expect(mp.requests.filter((r) => r.method === 'POST')).toEqual([])
  mp.modalConfirm = true
  await tap(page, '.order >>> .complete')
  await flush()
  expect(mp.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/engineer/service-orders/32/complete'])
  expect(ids(page)).toEqual([31])
  expect(mp.called('showToast').pop().title).toBe('服务单已完成')
})

test('a time in the past is refused under the pickers; an order changed elsewhere is reloaded', async () => {
  let version = 0
  routeOrders(() => [200, { items: version === 0 ? [F.order(31)] : [], next_cursor: null }])
  mp.route('POST', '/api/v1/engineer/service-orders/31/schedule', 422,
    apiError('validation_error', '预约时间须在将来', { fields: { scheduled_for: ['预约时间须在将来'] } }))
  const page = await open()
  await tap(page, '.order >>> .schedule')
  await tap(page, '.order >>> .confirm-schedule')
  expect(text(page, '.order >>> .schedule-error')).toBe('预约时间须在将来')
  expect(mp.called('showToast')).toEqual([])

  mp.route('POST', '/api/v1/engineer/service-orders/31/schedule', 409,
    apiError('order_state_changed', '服务单当前状态为“已取消”，不能执行此操作', { status: 'cancelled' }))
  version = 1
  await tap(page, '.order >>> .confirm-schedule')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('服务单当前状态为“已取消”，不能执行此操作')
  expect(listQueries()).toHaveLength(2)
  expect(page.data.state).toBe('empty')
})

test('a completion whose first answer was lost counts as done', async () => {
  routeOrders(() => [200, { items: [F.order(31, 'scheduled')], next_cursor: null }])
  mp.route('POST', '/api/v1/engineer/service-orders/31/complete', 409,
    apiError('order_state_changed', '服务单当前状态为“已完成”，不能执行此操作', { status: 'completed' }))
  const page = await open({ status: 'scheduled' })
  routeOrders(() => [200, { items: [], next_cursor: null }])
  await tap(page, '.order >>> .complete')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('服务单已完成')
  expect(page.data.state).toBe('empty')
})

test('tabs filter by status, more load at the bottom, pull-down reloads', async () => {
  routeOrders((q) => {
    if (q.get('cursor')) return [200, { items: [F.order(20, 'completed')], next_cursor: null }]
    if (q.get('status') === 'completed') return [200, { items: [F.order(30, 'completed', { rating: 5 })], next_cursor: 'n' }]
    return [200, { items: [], next_cursor: null }]
  })
  const page = await open()
  expect(page.data.state).toBe('empty')
  await tap(page, '.tab-completed')
  expect(text(page, '.order >>> .completed')).toBe('完成于 12月5日 11:00 · 评分 5 星')
  expect(page.querySelector('.order >>> .schedule')).toBeUndefined()
  page.instance.onReachBottom()
  await flush()
  expect(ids(page)).toEqual([30, 20])
  await page.instance.onPullDownRefresh()
  expect(ids(page)).toEqual([30])
  expect(listQueries().map((q) => [q.status, q.cursor])).toEqual([['assigned', undefined], ['completed', undefined], ['completed', 'n'], ['completed', undefined]])
})

test('a failed load shows the error with a retry', async () => {
  let calls = 0
  routeOrders(() => (calls++ === 0 ? ['network'] : [200, { items: [F.order(31)], next_cursor: null }]))
  const page = await open()
  expect(text(page, '.load-error >>> .message')).toBe('服务单加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  expect(ids(page)).toEqual([31])
})
