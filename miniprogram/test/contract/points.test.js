/**
 * Redeem a reward against the real server: a resident with points (granted by an admin) redeems
 * through the rewards page (a double tap redeems once), my redemptions page shows it waiting,
 * an admin approves it, and the page shows 已通过 while the inbox has the notice.
 */
const { load, waitFor, text, tap } = require('../helpers')
const backend = require('./backend')

/** A resident logged in through the fake WeChat as `mp.openid`: their token and user. */
async function resident() {
  mp.openid = `o_points_${backend.unique()}`
  const token = await backend.wechatLogin(mp.openid)
  const user = await backend.call('GET', '/api/v1/me', undefined, token)
  return { token, user }
}

async function open(path) {
  const page = load(path)
  page.instance.onLoad({})
  await waitFor(() => page.data.state !== 'loading', { what: `${path} to load` })
  return page
}

test('redeem a reward: a double tap redeems once, the admin approves, the resident sees 已通过 and the notice', async () => {
  const admin = await backend.adminToken()
  const { token, user } = await resident()
  const name = `契约保温杯${backend.unique()}`
  const reward = await backend.call('POST', '/api/v1/admin/rewards', { name, description: '不锈钢 500ml', cost: 100, stock: 3 }, admin)
  await backend.call('POST', '/api/v1/admin/points/adjustments', { user_id: user.id, amount: 150, reason: '契约测试发放' }, admin)

  const rewards = await open('pages/rewards/index')
  expect(rewards.data.state).toBe('ready')
  expect(rewards.data.balance).toBe(150)
  const index = rewards.data.rewards.findIndex((r) => r.id === reward.id)
  expect(rewards.data.rewards[index]).toEqual(expect.objectContaining({ name, cost: 100, action: '兑换', affordable: true }))
  expect(rewards.querySelectorAll('.reward-note')[index].dom.textContent.trim()).toBe('剩 3 件')
  const button = rewards.querySelectorAll('.redeem')[index]
  button.dispatchEvent('tap')
  button.dispatchEvent('tap')
  await waitFor(() => rewards.data.result !== null, { what: 'the redemption' })
  expect(text(rewards, '.result-title')).toBe('兑换已提交')
  expect(text(rewards, '.result-status')).toBe('待审核')
  expect(mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/redemptions')).toHaveLength(1)
  await waitFor(() => rewards.data.balance === 50, { what: 'the balance read again' })
  expect(rewards.data.rewards.find((r) => r.id === reward.id).note).toBe('剩 2 件')

  const redemptions = await open('pages/redemptions/index')
  expect(redemptions.data.items).toHaveLength(1)
  const mine = redemptions.data.items[0]
  expect(mine).toEqual(expect.objectContaining({ name, points: 100, statusText: '待审核', cancellable: true }))

  await backend.call('POST', `/api/v1/admin/redemptions/${mine.id}/approve`, undefined, admin)
  redemptions.instance.onShow()
  await waitFor(() => redemptions.data.items[0].status === 'approved', { what: 'the approval to show' })
  expect(text(redemptions, '.status')).toBe('已通过')
  expect(redemptions.querySelector('.cancel')).toBeUndefined()

  const inbox = await backend.call('GET', '/api/v1/me/notifications', undefined, token)
  expect(inbox.items[0]).toEqual(expect.objectContaining({ kind: 'redemption', title: '兑换已通过审核', page: 'pages/redemptions/index' }))
  expect(inbox.items[0].body).toContain(name)

  const points = await open('pages/points/index')
  expect(text(points, '.balance')).toBe('50')
  expect(points.data.entries.map((e) => [e.title, e.amount])).toEqual([['兑换奖品', '-100'], ['积分调整', '+150']])
})

test('a pending redemption cancelled on the redemptions page returns the points', async () => {
  const admin = await backend.adminToken()
  const { user } = await resident()
  const reward = await backend.call('POST', '/api/v1/admin/rewards', { name: `契约清洗券${backend.unique()}`, cost: 40 }, admin)
  await backend.call('POST', '/api/v1/admin/points/adjustments', { user_id: user.id, amount: 40, reason: '契约测试发放' }, admin)
  const rewards = await open('pages/rewards/index')
  const index = rewards.data.rewards.findIndex((r) => r.id === reward.id)
  rewards.querySelectorAll('.redeem')[index].dispatchEvent('tap')
  await waitFor(() => rewards.data.result !== null, { what: 'the redemption' })

  const redemptions = await open('pages/redemptions/index')
  await tap(redemptions, '.cancel')
  await waitFor(() => redemptions.data.items[0].status === 'cancelled', { what: 'the cancellation' })
  expect(text(redemptions, '.reason')).toBe('原因：用户取消')
  const points = await open('pages/points/index')
  expect(text(points, '.balance')).toBe('40')
  expect(points.data.entries[0]).toEqual(expect.objectContaining({ title: '兑换退回', amount: '+40' }))
})
