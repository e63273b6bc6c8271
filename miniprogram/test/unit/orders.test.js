const { load, flush, text, tap } = require('../helpers')

/** A service order as GET /api/v1/me/service-orders lists it (the real shape). */
const order = (id, extra = {}) => ({ id, source: 'app', estate_id: 12, resident_id: 5, engineer_id: 3, preferred_engineer_id: null,
  service_type: 'repair', service_type_label: '维修', description: '空调不制冷', preferred_slot: null, status: 'assigned',
  status_label: '已派单', requested_at: '2026-12-04T02:00:00+00:00', assigned_at: '2026-12-04T02:00:00+00:00', scheduled_for: null,
  completed_at: null, cancelled_at: null, cancel_reason: null, rating: null, complained: false, address: '翠竹苑 3栋 2单元 1201',
  contact_name: '陈小明', contact_phone: '13812345678', customer_name: '陈小明', photos: [],
  engineer: { id: 3, name: '王建国', photo_url: null }, review: null, ...extra })

function routeList(pages) {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/me/service-orders', (req) => [200, pages[req.query.get('cursor') || '']])
}

async function open() {
  const page = load('pages/orders/index')
  page.instance.onLoad()
  await flush(10)
  return page
}

test('each order shows its type, status badge, time and engineer; a tap opens it', async () => {
  routeList({ '': { items: [
    order(9, { status: 'scheduled', status_label: '已预约', scheduled_for: '2026-12-06T01:30:00+00:00' }),
    order(8, { status: 'requested', status_label: '待派单', engineer_id: null, engineer: null, assigned_at: null }),
    order(7, { status: 'completed', status_label: '已完成', completed_at: '2026-12-03T02:00:00+00:00' }),
    order(6, { status: 'cancelled', status_label: '已取消', cancelled_at: '2026-12-03T02:00:00+00:00', cancel_reason: '计划有变', address: '' }),
  ], next_cursor: null } })
  const page = await open()
  expect(page.data.state).toBe('ready')
  const items = page.querySelectorAll('.item')
  expect(items).toHaveLength(4)
  // inside a plain element the page's classes carry the page's prefix
  const cell = (i, sel) => { const el = items[i].dom.querySelector(sel.replace('.', '.main--')); return el ? el.textContent.trim() : null }
  expect([cell(0, '.type'), cell(0, '.status'), cell(0, '.engineer'), cell(0, '.when')]).toEqual(['维修', '已预约', '王建国师傅', '上门 12月6日 09:30'])
  expect([cell(1, '.status'), cell(1, '.engineer'), cell(1, '.when')]).toEqual(['待派单', '等待派单', '申请于 12月4日 10:00'])
  expect(items[1].dom.querySelector('.main--status').className).toContain('warn')
  expect(cell(2, '.to-review')).toBe('服务已完成，去评价 ›')
  expect(cell(3, '.status')).toBe('已取消')
  expect(items[3].dom.querySelector('.main--status').className).toContain('muted')
  expect(cell(3, '.address')).toBeNull()
  expect(cell(0, '.address')).toBe('翠竹苑 3栋 2单元 1201')
  items[2].dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo')[0].url).toBe('/pages/order/index?id=7')
})

test('a reviewed order is not offered for review', async () => {
  routeList({ '': { items: [order(7, { status: 'completed', status_label: '已完成', rating: 5,
    review: { id: 1, order_id: 7, engineer_id: 3, rating: 5, text: '好', photos: [], created_at: '2026-12-04T02:00:00+00:00' } })], next_cursor: null } })
  const page = await open()
  expect(page.querySelector('.to-review')).toBeUndefined()
})

test('more orders load at the bottom with the cursor; pull-down reloads the first page', async () => {
  routeList({ '': { items: [order(9), order(8)], next_cursor: 'c1' }, c1: { items: [order(7)], next_cursor: null } })
  const page = await open()
  expect(text(page, '.more')).toBe('上拉加载更多')
  page.instance.onReachBottom()
  await flush(10)
  expect(page.data.items.map((i) => i.id)).toEqual([9, 8, 7])
  expect(text(page, '.more')).toBe('没有更多了')
  page.instance.onPullDownRefresh()
  await flush(10)
  expect(page.data.items.map((i) => i.id)).toEqual([9, 8])
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
  expect(mp.requests.filter((r) => r.path === '/api/v1/me/service-orders').map((r) => r.query.get('cursor'))).toEqual([null, 'c1', null])
})

test('coming back from an order reloads the list (its status may have changed)', async () => {
  routeList({ '': { items: [order(9)], next_cursor: null } })
  const page = await open()
  routeList({ '': { items: [order(9, { status: 'cancelled', status_label: '已取消' })], next_cursor: null } })
  page.instance.onShow()
  await flush(10)
  expect(text(page, '.status')).toBe('已取消')
})

test('no orders yet: says so and offers a request', async () => {
  routeList({ '': { items: [], next_cursor: null } })
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('还没有服务单')
  getApp().globalData.estateId = 12
  page.querySelector('.empty').querySelector('.action').dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo')[0].url).toBe('/pages/request/index?estate_id=12')
})

test('a failed load offers a retry', async () => {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  mp.route('GET', '/api/v1/me/service-orders', 'network')
  const page = await open()
  expect(page.data.state).toBe('error')
  routeList({ '': { items: [order(9)], next_cursor: null } })
  page.querySelector('.load-error').querySelector('.action').dispatchEvent('tap')
  await flush(10)
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.item')).toHaveLength(1)
})
