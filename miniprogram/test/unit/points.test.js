const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const SUMMARY = { balance: 120, held: 30, pending: 50, expiring: { points: 20, before: '2026-12-31T15:59:59+00:00' } }
const ENTRY = (id, amount, kind, reason) => ({ id, amount, kind, reason, created_at: '2026-12-03T02:00:00+00:00', transaction_id: id + 100 })
const PAGE1 = {
  items: [
    ENTRY(9, -30, 'hold', '兑换「保温杯」×1'),
    ENTRY(8, 20, 'binding_rating', '完成管家绑定并评价服务'),
    ENTRY(7, 126, 'task', '完成任务「转发海报」'),
  ],
  next_cursor: 'c1',
}
const PAGE2 = { items: [ENTRY(3, 100, 'adjustment', '活动补偿'), ENTRY(2, -5, 'expiry', '积分到期')], next_cursor: null }

function routeAll() {
  mp.route('GET', '/api/v1/me/points', 200, SUMMARY)
  mp.route('GET', '/api/v1/me/points/entries', (req) => [200, req.query.get('cursor') === 'c1' ? PAGE2 : PAGE1])
}

test('shows the balance, held, pending and what expires soon, and the history with Chinese names', async () => {
  routeAll()
  const page = load('pages/points/index')
  expect(page.data.state).toBe('loading')
  page.instance.onLoad()
  await flush()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.balance')).toBe('120')
  expect(text(page, '.held .figure-value')).toBe('30')
  expect(text(page, '.pending .figure-value')).toBe('50')
  expect(text(page, '.pending-hint')).toContain('退款期')
  // 2026-12-31 15:59 UTC is 2026-12-31 23:59 in Beijing
  expect(text(page, '.expiring')).toBe('20 积分将于 12月31日 前到期，请尽快使用')
  const entries = page.querySelectorAll('.entry')
  expect(entries).toHaveLength(3)
  expect(text(page, '.entry .entry-title')).toBe('兑换奖品')
  expect(text(page, '.entry .entry-detail')).toBe('兑换「保温杯」×1')
  expect(text(page, '.entry .amount')).toBe('-30')
  expect(page.data.entries.map((e) => [e.title, e.amount, e.detail])).toEqual([
    ['兑换奖品', '-30', '兑换「保温杯」×1'],
    ['绑定管家奖励', '+20', '完成管家绑定并评价服务'],
    ['代言人任务奖励', '+126', '完成任务「转发海报」'],
  ])
  expect(page.data.entries[0].when).toBe('12月3日 10:00')
})

test('scrolling to the bottom loads the next page with the cursor, then stops', async () => {
  routeAll()
  const page = load('pages/points/index')
  page.instance.onLoad()
  await flush()
  page.instance.onReachBottom()
  await flush()
  expect(page.data.entries.map((e) => e.title)).toEqual(['兑换奖品', '绑定管家奖励', '代言人任务奖励', '积分调整', '积分到期'])
  expect(page.data.cursor).toBeNull()
  expect(text(page, '.more.end')).toBe('没有更多了')
  const before = mp.requests.length
  page.instance.onReachBottom()
  await flush()
  expect(mp.requests.length).toBe(before)
})

test('no history yet: the summary and an empty list with how to earn', async () => {
  mp.route('GET', '/api/v1/me/points', 200, { balance: 0, held: 0, pending: 0, expiring: { points: 0, before: null } })
  mp.route('GET', '/api/v1/me/points/entries', 200, { items: [], next_cursor: null })
  const page = load('pages/points/index')
  page.instance.onLoad()
  await flush()
  expect(text(page, '.balance')).toBe('0')
  expect(page.querySelector('.expiring')).toBeUndefined()
  expect(page.querySelector('.pending-hint')).toBeUndefined()
  expect(text(page, '.entries-empty >>> .message')).toBe('还没有积分记录')
})

test('a failed load shows the error with a retry that loads again', async () => {
  let fail = true
  mp.route('GET', '/api/v1/me/points', () => (fail ? [500, apiError('server_error', '服务器开小差了')] : [200, SUMMARY]))
  mp.route('GET', '/api/v1/me/points/entries', 200, PAGE1)
  const page = load('pages/points/index')
  page.instance.onLoad()
  await flush()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('积分加载失败')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  expect(text(page, '.balance')).toBe('120')
})

test('links open the rewards and my redemptions; pull-down refresh reloads and stops', async () => {
  routeAll()
  const page = load('pages/points/index')
  page.instance.onLoad()
  await flush()
  await tap(page, '.go-rewards')
  await tap(page, '.go-redemptions')
  expect(mp.called('navigateTo').map((a) => a.url)).toEqual(['/pages/rewards/index', '/pages/redemptions/index'])
  mp.route('GET', '/api/v1/me/points', 200, { ...SUMMARY, balance: 90 })
  await page.instance.onPullDownRefresh()
  expect(text(page, '.balance')).toBe('90')
  expect(mp.called('stopPullDownRefresh')).toHaveLength(1)
})
