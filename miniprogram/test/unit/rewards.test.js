const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const reward = (id, extra = {}) => ({ id, name: `奖品${id}`, description: '', image_url: '', cost: 100, stock: null,
  per_user_limit: null, ends_at: null, ...extra })
const REWARDS = [
  reward(1, { name: '保温杯', description: '不锈钢 500ml', image_url: '/api/v1/uploads/cup.jpg', cost: 100, stock: 5, per_user_limit: 1,
    ends_at: '2026-12-24T12:00:00+00:00' }),
  reward(2, { name: '空调清洗券', cost: 50, stock: 0 }),
  reward(3, { name: '电饭煲', cost: 500 }),
]
const SUMMARY = { balance: 120, held: 0, pending: 0, expiring: { points: 0, before: null } }
const redemption = (status, extra = {}) => ({ id: 41, reward: { id: 1, name: '保温杯', image_url: '/api/v1/uploads/cup.jpg', cost: 100 },
  quantity: 1, points: 100, status, reason: null, note: null, created_at: '2026-12-04T02:00:00+00:00',
  decide_by: '2026-12-18T02:00:00+00:00', decided_at: status === 'approved' ? '2026-12-04T02:00:00+00:00' : null, fulfilled_at: null, ...extra })

function routeList(balance = 120) {
  mp.route('GET', '/api/v1/rewards', 200, { items: REWARDS })
  mp.route('GET', '/api/v1/me/points', 200, { ...SUMMARY, balance })
}

async function open() {
  const page = load('pages/rewards/index')
  page.instance.onLoad()
  await flush()
  return page
}

const posts = () => mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/redemptions')

test('the catalogue shows cost, stock, limits and whether my balance reaches each reward', async () => {
  routeList()
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.balance')).toBe('120')
  const cards = page.querySelectorAll('.reward')
  expect(cards).toHaveLength(3)
  expect(text(page, '.reward .reward-name')).toBe('保温杯')
  expect(text(page, '.reward .reward-description')).toBe('不锈钢 500ml')
  expect(text(page, '.reward .cost')).toBe('100 积分')
  expect(text(page, '.reward .reward-note')).toBe('剩 5 件 · 每人限兑 1 件 · 12月24日 20:00 截止')
  expect(page.data.rewards[0].image).toBe('http://127.0.0.1:5000/api/v1/uploads/cup.jpg')
  expect(page.data.rewards.map((r) => [r.action, r.affordable, r.soldOut])).toEqual([
    ['兑换', true, false], ['已兑完', true, true], ['还差 380 积分', false, false]])
  expect(page.querySelectorAll('.redeem').map((b) => b.dom.textContent.trim())).toEqual(['兑换', '已兑完', '还差 380 积分'])
})

test('redeeming asks first, sends one call with an Idempotency-Key, and says it waits for approval', async () => {
  routeList()
  mp.route('POST', '/api/v1/redemptions', 201, redemption('pending'))
  const page = await open()
  mp.route('GET', '/api/v1/me/points', 200, { ...SUMMARY, balance: 20 })
  await tap(page, '.redeem')
  await flush()
  expect(mp.called('showModal')[0].content).toBe('使用 100 积分兑换「保温杯」？')
  expect(posts()).toHaveLength(1)
  expect(posts()[0].data).toEqual({ reward_id: 1, quantity: 1 })
  expect(posts()[0].header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(text(page, '.result-title')).toBe('兑换已提交')
  expect(text(page, '.result-status')).toBe('待审核')
  expect(text(page, '.result-text')).toBe('「保温杯」，使用 100 积分')
  expect(page.querySelector('.subscribe')).toBeTruthy()
  // the catalogue and the balance are read again
  expect(text(page, '.balance')).toBe('20')
  expect(page.data.rewards[0].action).toBe('还差 80 积分')
  await tap(page, '.go-redemptions')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/redemptions/index')
})

test('a double tap redeems once', async () => {
  routeList()
  mp.route('POST', '/api/v1/redemptions', 201, redemption('pending'))
  const page = await open()
  const button = page.querySelector('.redeem')
  button.dispatchEvent('tap')
  button.dispatchEvent('tap')
  await flush(10)
  expect(mp.called('showModal')).toHaveLength(1)
  expect(posts()).toHaveLength(1)
})

test('a lost answer is retried with the same key; a refusal frees it', async () => {
  routeList()
  let answer = ['network']
  mp.route('POST', '/api/v1/redemptions', () => answer)
  const page = await open()
  await tap(page, '.redeem')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  answer = [409, apiError('insufficient_points', '积分不足')]
  await tap(page, '.redeem')
  await flush()
  expect(posts()[1].header['Idempotency-Key']).toBe(posts()[0].header['Idempotency-Key'])
  expect(mp.called('showToast').pop().title).toBe('积分不足')
  answer = [201, redemption('pending')]
  await tap(page, '.redeem')
  await flush()
  expect(posts()[2].header['Idempotency-Key']).not.toBe(posts()[0].header['Idempotency-Key'])
  expect(page.data.result.status).toBe('pending')
})

test('cancelling the confirmation sends nothing; unaffordable and sold-out rewards do not open it', async () => {
  routeList()
  const page = await open()
  mp.modalConfirm = false
  await tap(page, '.redeem')
  await flush()
  expect(mp.called('showModal')).toHaveLength(1)
  expect(posts()).toHaveLength(0)
  const buttons = page.querySelectorAll('.redeem')
  buttons[1].dispatchEvent('tap')
  buttons[2].dispatchEvent('tap')
  await flush()
  expect(mp.called('showModal')).toHaveLength(1)
  expect(page.data.redeeming).toBeNull()
})

test('a trusted user is approved at once: no notice to wait for', async () => {
  routeList()
  mp.route('POST', '/api/v1/redemptions', 201, redemption('approved'))
  const page = await open()
  await tap(page, '.redeem')
  await flush()
  expect(text(page, '.result-title')).toBe('兑换成功')
  expect(text(page, '.result-status')).toBe('已通过')
  expect(page.querySelector('.subscribe')).toBeUndefined()
})

test('the redemption notice is asked for on a tap and the acceptance reaches the server', async () => {
  routeList()
  mp.route('POST', '/api/v1/redemptions', 201, redemption('pending'))
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: { visit: 'T_VISIT', order: 'T_ORDER', redemption: 'T_REDEEM' } })
  mp.route('POST', '/api/v1/me/subscriptions', 200, { quotas: { T_REDEEM: 1 } })
  mp.subscribeAnswers = { T_REDEEM: 'accept' }
  const page = await open()
  await tap(page, '.redeem')
  await flush()
  expect(mp.called('requestSubscribeMessage')).toEqual([])
  await tap(page, '.subscribe')
  await flush()
  expect(mp.called('requestSubscribeMessage')[0].tmplIds).toEqual(['T_REDEEM'])
  expect(mp.requests.find((r) => r.path === '/api/v1/me/subscriptions').data).toEqual({ template_ids: ['T_REDEEM'] })
  expect(mp.called('showToast').pop().title).toBe('已开启兑换结果通知')
  expect(text(page, '.subscribe')).toBe('已开启通知，再开启一次')
})

test('no rewards on offer: the empty state', async () => {
  mp.route('GET', '/api/v1/rewards', 200, { items: [] })
  mp.route('GET', '/api/v1/me/points', 200, SUMMARY)
  const page = await open()
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('暂时没有可兑换的奖品')
})

test('a failed load offers a retry', async () => {
  let fail = true
  mp.route('GET', '/api/v1/rewards', () => (fail ? ['network'] : [200, { items: REWARDS }]))
  mp.route('GET', '/api/v1/me/points', 200, SUMMARY)
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(page.querySelector('.balance-bar')).toBeUndefined()
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.reward')).toHaveLength(3)
})
