const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const redemption = (id, status, extra = {}) => ({ id, reward: { id: 1, name: `奖品${id}`, image_url: '/api/v1/uploads/r.jpg', cost: 100 },
  quantity: 1, points: 100, status, reason: null, note: null, created_at: '2026-12-03T02:00:00+00:00',
  decide_by: '2026-12-17T02:00:00+00:00', decided_at: null, fulfilled_at: null, ...extra })
const PAGE1 = {
  items: [
    redemption(6, 'pending'),
    redemption(5, 'approved', { decided_at: '2026-12-03T05:00:00+00:00' }),
    redemption(4, 'fulfilled', { note: '券码 ABCD-1234', fulfilled_at: '2026-12-03T06:00:00+00:00' }),
    redemption(3, 'rejected', { reason: '库存核对有误' }),
    redemption(2, 'voided', { reason: '超时未审核，积分已退回', quantity: 2, points: 200 }),
  ],
  next_cursor: 'c1',
}
const PAGE2 = { items: [redemption(1, 'cancelled', { reason: '用户取消' })], next_cursor: null }

function routeList() {
  mp.route('GET', '/api/v1/me/redemptions', (req) => [200, req.query.get('cursor') === 'c1' ? PAGE2 : PAGE1])
}

async function open() {
  const page = load('pages/redemptions/index')
  page.instance.onLoad()
  await flush()
  return page
}

test('my redemptions with their status, reasons, delivery note and the void date of a pending one', async () => {
  routeList()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.redemption')).toHaveLength(5)
  expect(page.querySelectorAll('.status').map((s) => s.dom.textContent.trim())).toEqual(['待审核', '已通过', '已发放', '已拒绝', '已作废'])
  expect(page.data.items.map((i) => i.badge)).toEqual(['warn', '', '', 'danger', 'muted'])
  expect(text(page, '.decide-by')).toBe('预计 12月17日 前审核，逾期未审核积分自动退回')
  expect(page.querySelectorAll('.reason').map((r) => r.dom.textContent.trim())).toEqual(['原因：库存核对有误', '原因：超时未审核，积分已退回'])
  expect(text(page, '.note .grow')).toBe('发放信息：券码 ABCD-1234')
  expect(text(page, '.note .copy')).toBe('复制')
  expect(page.querySelectorAll('.cancel')).toHaveLength(1)
  expect(page.data.items[4].quantity).toBe(2)
  expect(page.querySelectorAll('.name')[4].dom.textContent.trim()).toBe('奖品2 ×2')
  expect(page.data.items[0].image).toBe('http://127.0.0.1:5000/api/v1/uploads/r.jpg')
  expect(page.data.items[0].when).toBe('12月3日 10:00')
  await tap(page, '.note')
  expect(mp.called('setClipboardData')[0].data).toBe('券码 ABCD-1234')
})

test('the next page comes with the cursor at the bottom', async () => {
  routeList()
  const page = await open()
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((i) => i.id)).toEqual([6, 5, 4, 3, 2, 1])
  expect(page.data.items[5].statusText).toBe('已取消')
  expect(mp.requests.filter((r) => r.path === '/api/v1/me/redemptions').map((r) => r.query.get('cursor'))).toEqual([null, 'c1'])
  expect(text(page, '.more.end')).toBe('没有更多了')
})

test('cancelling a pending redemption asks, then shows it cancelled with the points back', async () => {
  routeList()
  mp.route('POST', '/api/v1/redemptions/6/cancel', 200, redemption(6, 'cancelled', { reason: '用户取消', decided_at: '2026-12-04T02:00:00+00:00' }))
  const page = await open()
  await tap(page, '.cancel')
  await flush()
  expect(mp.called('showModal')[0].content).toBe('取消「奖品6」的兑换？100 积分将退回您的账户。')
  expect(mp.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/redemptions/6/cancel'])
  expect(page.data.items[0].statusText).toBe('已取消')
  expect(page.querySelector('.cancel')).toBeUndefined()
  expect(text(page, '.reason')).toBe('原因：用户取消')
  expect(mp.called('showToast').pop().title).toBe('已取消，积分已退回')
})

test('declining the confirmation keeps it; an admin who decided first is told and the list reloads', async () => {
  routeList()
  mp.route('POST', '/api/v1/redemptions/6/cancel', 409, apiError('redemption_already_decided', '该兑换当前状态为「已通过」，不能执行此操作', { status: 'approved' }))
  const page = await open()
  mp.modalConfirm = false
  await tap(page, '.cancel')
  await flush()
  expect(mp.requests.filter((r) => r.method === 'POST')).toHaveLength(0)
  mp.modalConfirm = true
  mp.route('GET', '/api/v1/me/redemptions', 200, { items: [redemption(6, 'approved')], next_cursor: null })
  await tap(page, '.cancel')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('该兑换当前状态为「已通过」，不能执行此操作')
  expect(page.data.items.map((i) => i.statusText)).toEqual(['已通过'])
})

test('nothing redeemed yet: the empty state leads to the rewards', async () => {
  mp.route('GET', '/api/v1/me/redemptions', 200, { items: [], next_cursor: null })
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('还没有兑换记录')
  await tap(page, '.empty >>> .action')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/rewards/index')
})

test('a failed load offers a retry; pull-down refresh reloads', async () => {
  let fail = true
  mp.route('GET', '/api/v1/me/redemptions', () => (fail ? [500, apiError('server_error', '出错了')] : [200, PAGE1]))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('兑换记录加载失败')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  mp.route('GET', '/api/v1/me/redemptions', 200, { items: [redemption(7, 'pending')], next_cursor: null })
  await page.instance.onPullDownRefresh()
  expect(page.data.items.map((i) => i.id)).toEqual([7])
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})
