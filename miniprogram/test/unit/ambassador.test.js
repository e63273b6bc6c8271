const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const LEVEL = { id: 1, code: 'trainee', name: '见习代言人', position: 1, permissions: ['recruit'], multiplier_pct: 100 }
const SILVER = { id: 2, code: 'silver', name: '银牌代言人', position: 2, permissions: ['recruit', 'announce'], multiplier_pct: 110 }
const ESTATES = [{ id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }, { id: 13, name: '桃源居', city: '深圳市', district: '宝安区' }]
const AMBASSADOR = { status: 'active', status_reason: null, level: LEVEL, next_level: { name: '银牌代言人', threshold: 500 },
  contribution_total: 380, window_contribution: 120, window_days: 90, invite_code: 'K7QX2M9P', estates: ESTATES,
  joined_at: '2026-11-20T02:00:00+00:00' }
const APPLICATION = { id: 31, status: 'pending', reason: null, channel: 'member', created_at: '2026-12-03T02:00:00+00:00',
  decided_at: null, reapply_after: null }
const BOARD = { scope: 'all', period: 'month', scope_key: 'all', period_key: '2026-12',
  items: [{ rank: 1, name: '王*', level: '金牌代言人', points: 900, is_me: false }, { rank: 2, name: '李**', level: '见习代言人', points: 120, is_me: true }],
  me: { rank: 2, points: 120 } }

async function open(me, board = BOARD) {
  mp.route('GET', '/api/v1/ambassador/me', 200, me)
  mp.route('GET', '/api/v1/ambassador/leaderboard', 200, board)
  const page = load('pages/ambassador/index')
  page.instance.onLoad()
  await flush()
  return page
}

test('an ambassador sees the level, the progress to the next, permissions, estates, code, links and the month board', async () => {
  const page = await open({ application: { ...APPLICATION, status: 'approved' }, ambassador: AMBASSADOR })
  expect(page.data.state).toBe('ready')
  expect(text(page, '.level-name')).toBe('见习代言人')
  expect(page.querySelector('.amb-status')).toBeUndefined()
  expect(text(page, '.contribution')).toBe('近 90 天贡献 120 分')
  expect(text(page, '.next-text')).toBe('再获得 380 分贡献可升为「银牌代言人」（门槛 500 分）')
  expect(page.data.ambassador.progress).toBe(24)
  expect(text(page, '.total')).toBe('累计贡献 380 分 · 11月20日 加入')
  expect(page.querySelectorAll('.perk').map((p) => p.dom.textContent.trim())).toEqual(['邀请新代言人'])
  expect(text(page, '.estates')).toBe('服务小区：翠竹苑、桃源居')
  expect(text(page, '.invite-code .code')).toBe('K7QX2M9P')
  await tap(page, '.invite-code')
  expect(mp.called('setClipboardData')[0].data).toBe('K7QX2M9P')
  await tap(page, '.go-tasks')
  await tap(page, '.go-invite')
  await tap(page, '.go-points')
  expect(mp.called('navigateTo').map((c) => c.url)).toEqual(['/pages/tasks/index', '/pages/invite/index', '/pages/points/index'])
  const board = mp.requests.find((r) => r.path === '/api/v1/ambassador/leaderboard')
  expect([board.query.get('scope'), board.query.get('period'), board.query.get('limit')]).toEqual(['all', 'month', '5'])
  expect(text(page, '.my-rank')).toBe('我的排名：第 2 名 · 120 分')
  expect(page.querySelectorAll('.rank-row')).toHaveLength(2)
  expect(page.querySelectorAll('.rank-row.me')).toHaveLength(1)
  expect(page.querySelector('.apply')).toBeUndefined()
})

test('the top level says so; a level without recruit has no invite link; the multiplier shows', async () => {
  const gold = { ...AMBASSADOR, level: { ...SILVER, permissions: ['announce'] }, next_level: null, window_contribution: 2400 }
  const page = await open({ application: null, ambassador: gold })
  expect(text(page, '.next-text')).toBe('已是最高等级')
  expect(page.querySelector('.bar')).toBeUndefined()
  expect(page.querySelectorAll('.perk').map((p) => p.dom.textContent.trim())).toEqual(['发布小区公告', '任务积分 ×1.1'])
  expect(page.querySelector('.go-invite')).toBeUndefined()
  expect(page.querySelector('.go-tasks')).toBeTruthy()
})

test('a suspended ambassador sees why, and no tasks or invite links', async () => {
  const page = await open({ application: null, ambassador: { ...AMBASSADOR, status: 'suspended', status_reason: '资料核实中', invite_code: null } })
  expect(text(page, '.amb-status')).toBe('已暂停')
  expect(text(page, '.status-reason')).toBe('资料核实中')
  expect(page.querySelector('.go-tasks')).toBeUndefined()
  expect(page.querySelector('.invite-code')).toBeUndefined()
  expect(text(page, '.inactive-hint')).toContain('恢复正常')
  expect(mp.requests.some((r) => r.path === '/api/v1/ambassador/leaderboard')).toBe(false)
})

test('not an ambassador: what it is, and the apply button opens the form', async () => {
  const page = await open({ application: null, ambassador: null })
  expect(text(page, '.intro-title')).toBe('成为服务代言人')
  expect(page.querySelector('.application')).toBeUndefined()
  await tap(page, '.apply')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/apply/index')
})

test('a pending application shows its status and can be withdrawn', async () => {
  const page = await open({ application: APPLICATION, ambassador: null })
  expect(text(page, '.app-status')).toBe('审核中')
  expect(text(page, '.application .small')).toBe('会员渠道 · 12月3日 10:00 提交')
  expect(page.querySelector('.apply')).toBeUndefined()
  mp.route('POST', '/api/v1/ambassador/applications/31/withdraw', 200, { ...APPLICATION, status: 'withdrawn', decided_at: '2026-12-04T02:00:00+00:00' })
  mp.route('GET', '/api/v1/ambassador/me', 200, { application: { ...APPLICATION, status: 'withdrawn' }, ambassador: null })
  await tap(page, '.withdraw')
  await flush()
  expect(mp.called('showModal')[0].title).toBe('撤回申请')
  expect(mp.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/ambassador/applications/31/withdraw'])
  expect(text(page, '.app-status')).toBe('已撤回')
  expect(page.querySelector('.withdraw')).toBeUndefined()
  expect(page.querySelector('.apply')).toBeTruthy()
})

test('a rejection shows the reason and the date to apply again; the button waits for it', async () => {
  const later = new Date(Date.now() + 20 * 86400000).toISOString()
  const page = await open({ application: { ...APPLICATION, status: 'rejected', reason: '服务小区信息不完整', reapply_after: later }, ambassador: null })
  expect(text(page, '.app-status')).toBe('未通过')
  expect(text(page, '.reason')).toBe('未通过原因：服务小区信息不完整')
  expect(text(page, '.reapply')).toMatch(/^\d+月\d+日 后可再次申请$|^\d{4}年\d+月\d+日 后可再次申请$/)
  expect(page.querySelector('.apply')).toBeUndefined()
  const past = await open({ application: { ...APPLICATION, status: 'rejected', reason: '信息不全', reapply_after: '2026-11-01T00:00:00+00:00' }, ambassador: null })
  expect(past.querySelector('.reapply')).toBeUndefined()
  expect(past.querySelector('.apply')).toBeTruthy()
})

test('a removed ambassador may apply again', async () => {
  const page = await open({ application: { ...APPLICATION, status: 'approved' },
    ambassador: { ...AMBASSADOR, status: 'removed', status_reason: '长期未活跃', invite_code: null } })
  expect(text(page, '.removed')).toBe('您的代言人身份已被移除：长期未活跃，可以重新申请。')
  expect(page.querySelector('.application')).toBeUndefined()
  expect(page.querySelector('.apply')).toBeTruthy()
})

test('a failed leaderboard only dims its card; a failed load offers a retry', async () => {
  mp.route('GET', '/api/v1/ambassador/leaderboard', 500, apiError('server_error', '出错了'))
  mp.route('GET', '/api/v1/ambassador/me', 200, { application: null, ambassador: AMBASSADOR })
  let page = load('pages/ambassador/index')
  page.instance.onLoad()
  await flush()
  expect(text(page, '.board-failed')).toBe('排行榜暂时无法加载，下拉刷新重试')
  expect(text(page, '.level-name')).toBe('见习代言人')

  let fail = true
  mp.route('GET', '/api/v1/ambassador/me', () => (fail ? ['network'] : [200, { application: null, ambassador: null }]))
  page = load('pages/ambassador/index')
  page.instance.onLoad()
  await flush()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('代言人信息加载失败')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('ready')
  expect(page.querySelector('.apply')).toBeTruthy()
})

test('coming back to the page reads my standing again', async () => {
  const page = await open({ application: null, ambassador: null })
  mp.route('GET', '/api/v1/ambassador/me', 200, { application: APPLICATION, ambassador: null })
  page.instance.onShow()
  await flush()
  expect(text(page, '.app-status')).toBe('审核中')
})
