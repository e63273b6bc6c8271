const { load, flush, text, tap, apiError } = require('../helpers')

const notice = (id, extra = {}) => ({ id, kind: 'order', title: `服务单已派单 ${id}`, body: `您的空调维修服务单（#${id}）已派给王建国师傅。`,
  page: `pages/order/index?id=${id}`, wechat: true, read: false, created_at: '2026-12-04T01:30:00+00:00', ...extra })

function login() {
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
}

async function open() {
  const page = load('pages/notifications/index')
  page.instance.onLoad({})
  await flush()
  return page
}

test('the inbox lists notices newest first, unread ones marked, with the unread count', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, {
    items: [notice(3), notice(2, { read: true, kind: 'visit', title: '王建国师傅12月5日上门服务', page: 'pages/estate/index?id=12' }),
      notice(1, { kind: 'redemption', page: null, read: true })],
    next_cursor: null, unread_count: 1 })
  const page = await open()
  expect(page.data.state).toBe('ready')
  const items = page.querySelectorAll('.item')
  expect(items).toHaveLength(3)
  expect(page.querySelectorAll('.item.unread')).toHaveLength(1)
  expect(page.querySelectorAll('.item .dot')).toHaveLength(1)
  expect(text(page, '.item.unread .title')).toBe('服务单已派单 3')
  expect(text(page, '.item .when')).toBe('12月4日 09:30')
  expect(page.querySelectorAll('.kind').map((k) => k.dom.textContent)).toEqual(['服务单', '上门服务', '积分兑换'])
  expect(text(page, '.unread-count')).toBe('1 条未读')
  expect(text(page, '.end')).toBe('没有更多了')
})

test('a tap marks the notice read and opens its page; a tab page opens with switchTab and the estate in globalData', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, {
    items: [notice(3), notice(2, { kind: 'visit', page: 'pages/estate/index?id=12' }), notice(1, { page: null })],
    next_cursor: null, unread_count: 3 })
  const reads = []
  mp.route('POST', '/api/v1/me/notifications/read', (req) => { reads.push(req.data); return [200, { updated: 1, unread_count: 3 - reads.length }] })
  const page = await open()
  const items = page.querySelectorAll('.item')
  items[0].dispatchEvent('tap')
  await flush()
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(['/pages/order/index?id=3'])
  expect(reads).toEqual([{ ids: [3] }])
  expect(page.data.items[0].read).toBe(true)
  expect(text(page, '.unread-count')).toBe('2 条未读')
  items[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('switchTab').map((a) => a.url)).toEqual(['/pages/estate/index'])
  expect(getApp().globalData.estateId).toBe(12)
  // no page: only marked read, nothing opens
  items[2].dispatchEvent('tap')
  await flush()
  expect(reads).toEqual([{ ids: [3] }, { ids: [2] }, { ids: [1] }])
  expect(mp.called('navigateTo')).toHaveLength(1)
  expect(mp.called('switchTab')).toHaveLength(1)
  expect(page.querySelector('.read-all')).toBeUndefined()
  // a read notice is not marked again
  items[0].dispatchEvent('tap')
  await flush()
  expect(reads).toHaveLength(3)
})

test('全部已读 marks everything read', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, { items: [notice(2), notice(1)], next_cursor: null, unread_count: 5 })
  mp.route('POST', '/api/v1/me/notifications/read', 200, { updated: 5, unread_count: 0 })
  const page = await open()
  await tap(page, '.read-all')
  expect(mp.requests.find((r) => r.method === 'POST' && r.path.endsWith('/read')).data).toEqual({})
  expect(page.querySelectorAll('.item.unread')).toHaveLength(0)
  expect(text(page, '.unread-count')).toBe('全部已读')
  expect(page.querySelector('.read-all')).toBeUndefined()
})

test('a failed 全部已读 says why and keeps the notices unread', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, { items: [notice(1)], next_cursor: null, unread_count: 1 })
  mp.route('POST', '/api/v1/me/notifications/read', () => ['network'])
  const page = await open()
  await tap(page, '.read-all')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(page.querySelectorAll('.item.unread')).toHaveLength(1)
})

test('reaching the bottom loads the next page with the cursor, once, until there is none', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', (req) => (req.query.get('cursor') === 'c2'
    ? [200, { items: [notice(1)], next_cursor: null, unread_count: 3 }]
    : [200, { items: [notice(3), notice(2)], next_cursor: 'c2', unread_count: 3 }]))
  const page = await open()
  expect(text(page, '.end')).toBe('上拉加载更多')
  page.instance.onReachBottom()
  page.instance.onReachBottom()
  await flush()
  expect(page.querySelectorAll('.item')).toHaveLength(3)
  expect(mp.requests.filter((r) => r.query.get('cursor') === 'c2')).toHaveLength(1)
  page.instance.onReachBottom()
  await flush()
  expect(mp.requests.filter((r) => r.path === '/api/v1/me/notifications')).toHaveLength(2)
  expect(text(page, '.end')).toBe('没有更多了')
})

test('pull-down refresh reloads the first page and stops the spinner', async () => {
  login()
  let items = [notice(1)]
  mp.route('GET', '/api/v1/me/notifications', () => [200, { items, next_cursor: null, unread_count: items.length }])
  const page = await open()
  items = [notice(2), notice(1)]
  await page.instance.onPullDownRefresh()
  await flush()
  expect(page.querySelectorAll('.item')).toHaveLength(2)
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})

test('no notices: the empty state says what will arrive here', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, { items: [], next_cursor: null, unread_count: 0 })
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('暂无通知')
})

test('a failed load shows an error with a retry', async () => {
  login()
  let fail = true
  mp.route('GET', '/api/v1/me/notifications', () => (fail ? [500, apiError('internal_error', '服务器内部错误，请稍后重试')] : [200, { items: [notice(1)], next_cursor: null, unread_count: 1 }]))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('没有加载到通知')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.item')).toHaveLength(1)
})

test('a care notice is labelled 保养提醒 and opens the care item', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, { items: [notice(4, { kind: 'care', title: '净水器滤芯更换提醒',
    body: '您的净水器 RO-600G 该进行滤芯更换了，预计 12月20日到期，点击一键预约您的管家 王建国师傅', page: 'pages/care/index?id=31' })],
  next_cursor: null, unread_count: 1 })
  mp.route('POST', '/api/v1/me/notifications/read', 200, { updated: 1, unread_count: 0 })
  const page = await open()
  expect(text(page, '.kind')).toBe('保养提醒')
  await tap(page, '.item')
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(['/pages/care/index?id=31'])
})

test('activation notices: an offer opens the estate on 优惠活动, an activity and my coupons their pages', async () => {
  login()
  mp.route('GET', '/api/v1/me/notifications', 200, { items: [
    notice(6, { kind: 'offer', title: '翠竹苑有新优惠：清洗立减券', page: 'pages/estate/index?id=15&tab=offers' }),
    notice(5, { kind: 'activity', title: '明天的活动：社区义诊', page: 'pages/activity/index?id=4' }),
    notice(4, { kind: 'coupon', title: '您获得一张优惠券', page: 'pages/coupons/index' }),
  ], next_cursor: null, unread_count: 0 })
  mp.route('POST', '/api/v1/me/notifications/read', 200, { updated: 1, unread_count: 0 })
  const page = await open()
  expect(page.querySelectorAll('.kind').map((k) => k.dom.textContent)).toEqual(['小区优惠', '社区活动', '优惠券'])
  for (const item of page.querySelectorAll('.item')) {
    item.dispatchEvent('tap')
    await flush()
  }
  expect(mp.called('switchTab').map((a) => a.url)).toEqual(['/pages/estate/index'])
  expect(getApp().globalData.estateId).toBe(15)
  expect(getApp().globalData.estateTab).toBe('offers')
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(['/pages/activity/index?id=4', '/pages/coupons/index'])
})
